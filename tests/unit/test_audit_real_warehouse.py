"""The audit on a real warehouse: a small generated sample landed and built by dbt, with a group
deletion applied. The clean build passes every suite; each test copies the build file, injects one
violation and sees the audit fail naming exactly the check that guards it. One dbt build per module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from expectations import AuditFailed, run_audit
from expectations.checks import Suite
from expectations.suites import all_suites
from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import run_dbt
from gw.deletion import request_group_deletion
from gw.generator import GeneratorSettings, generate
from gw.pipeline import audit, land, publish

SETTINGS = GeneratorSettings(events=2_500, groups=8, persons=40, days=14, seed=7, bad_files=False)
RUN_DATE = SETTINGS.start + timedelta(days=SETTINGS.days - 1)


@dataclass(frozen=True)
class Built:
    paths: WarehousePaths
    deleted_key: str


def _busiest_company(events: Sequence[object]) -> str:
    counts: dict[str, int] = {}
    for event in events:
        key = getattr(event, "groups", {}).get("company")
        if getattr(event, "project_id", None) == 1 and key:
            counts[key] = counts.get(key, 0) + 1
    return max(sorted(counts), key=lambda key: counts[key])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    paths = warehouse_paths(tmp_path_factory.mktemp("audit-home")).ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, SETTINGS)
    land(paths)
    deleted_key = _busiest_company(sample.events)
    request_group_deletion(paths, 1, "company", deleted_key, requested_by="audit-test", reason="test")
    # models and seeds only: dbt's own tests are other modules' business, and skipping them halves
    # the build
    run_dbt(
        paths,
        ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
        dbt_vars={"run_date": RUN_DATE.isoformat()},
        target_path=paths.home / "dbt-target",
    )
    yield Built(paths=paths, deleted_key=deleted_key)


def _suite(name: str) -> Suite:
    (suite,) = [suite for suite in all_suites() if suite.name == name]
    return suite


def _copy_with(built: Built, folder: Path, statements: Sequence[str]) -> Path:
    copy = folder / "build.duckdb"
    shutil.copy(built.paths.build_db, copy)
    with duckdb.connect(str(copy)) as connection:
        for statement in statements:
            connection.execute(statement.replace("{deleted}", built.deleted_key))
    return copy


def test_the_clean_warehouse_passes_every_suite_and_every_check_looked_at_data(built: Built) -> None:
    with duckdb.connect(str(built.paths.build_db), read_only=True) as connection:
        # the deletion was applied, so the deletion check has a request to verify
        assert connection.execute(
            "select count(*) from staging.stg_warehouse__group_deletions"
        ).fetchone() == (1,)
        assert connection.execute(
            "select count(*) from marts.dim_groups where project_id = 1 and group_type = 'company' "
            "and group_key = ?",
            [built.deleted_key],
        ).fetchone() == (0,)
    report = run_audit(built.paths.build_db)
    assert report.passed, report.describe()
    checked = {(o.suite, o.check) for o in report.outcomes}
    assert checked == {(suite.name, check.name) for suite in all_suites() for check in suite.checks}
    assert "audit_query_runs" not in {o.expectation for o in report.outcomes}


_ONE_IDENTIFIED_GROUP = (
    "(project_id, group_type, group_key) = (select (project_id, group_type, group_key) "
    "from marts.dim_groups where has_properties order by all limit 1)"
)
_ONE_GROUP_WITH_TWO_VERSIONS = (
    "(project_id, group_type, group_key) = (select (project_id, group_type, group_key) "
    "from marts.dim_group_property_history where property_version = 2 order by all limit 1)"
)
_ONE_FUNNEL = (
    "(insight_id, project_id) = (select (insight_id, project_id) from marts.mart_insight_funnel_steps "
    "where step_number = 2 and actor_count > 0 order by all limit 1)"
)


@pytest.mark.parametrize(
    ("suite", "statements", "failing_checks"),
    [
        pytest.param(
            "properties",
            [
                # a consistent but wrong fold: dim_groups and its current history row agree
                'update marts.dim_groups set properties = json_merge_patch(properties, \'{"plan": "forged"}\') '
                f"where {_ONE_IDENTIFIED_GROUP}",
                "update marts.dim_group_property_history as history set properties = groups.properties "
                "from marts.dim_groups as groups where history.is_current "
                "and (history.project_id, history.group_type, history.group_key) "
                "= (groups.project_id, groups.group_type, groups.group_key)",
            ],
            {"current_properties_equal_the_fold"},
            id="property-mismatch",
        ),
        pytest.param(
            "properties",
            [
                "update marts.dim_group_property_history set valid_to = valid_to + interval 1 day "
                f"where property_version = 1 and {_ONE_GROUP_WITH_TWO_VERSIONS}",
            ],
            {"property_history_intervals"},
            id="overlapping-history",
        ),
        pytest.param(
            "properties",
            [
                "update marts.dim_group_property_history set is_current = true, valid_to = null "
                f"where property_version = 1 and {_ONE_GROUP_WITH_TWO_VERSIONS}",
            ],
            {"property_history_intervals"},
            id="two-current-rows",
        ),
        pytest.param(
            "properties",
            [
                f"update marts.dim_groups set display_name = display_name || ' (renamed)' where {_ONE_IDENTIFIED_GROUP}"
            ],
            {"display_names"},
            id="display-name-not-the-name-property",
        ),
        pytest.param(
            "properties",
            [
                "update marts.dim_groups set created_at = first_event_at + interval 1 hour "
                "where (project_id, group_type, group_key) = (select (project_id, group_type, group_key) "
                "from marts.dim_groups where first_event_at is not null order by all limit 1)",
            ],
            {"created_at_is_first_sighting"},
            id="created-after-first-event",
        ),
        pytest.param(
            "properties",
            [
                "update marts.fct_events set properties = json_merge_patch(properties, "
                '\'{"$groups": {"company": "{deleted}"}}\') '
                "where event_uuid = (select min(event_uuid) from marts.fct_events where project_id = 1)",
            ],
            {"deleted_groups_leave_no_trace"},
            id="deleted-group-in-event-properties",
        ),
        pytest.param(
            "properties",
            [
                "update marts.mart_insight_funnel_actors set actor_id = '{deleted}' "
                "where (insight_id, actor_id) = (select (insight_id, actor_id) from marts.mart_insight_funnel_actors "
                "where project_id = 1 and actor_type = 'group' and group_type_index = ("
                "select group_type_index from marts.dim_group_types where project_id = 1 and group_type = 'company'"
                ") order by all limit 1) and project_id = 1",
            ],
            {"deleted_groups_leave_no_trace"},
            id="deleted-group-as-funnel-actor",
        ),
        pytest.param(
            "marts",
            [
                "update marts.mart_insight_funnel_steps set actor_count = actor_count + 1000 "
                f"where step_number = 2 and {_ONE_FUNNEL}",
            ],
            {"funnel_step_counts_never_increase"},
            id="non-monotonic-funnel",
        ),
        pytest.param(
            "marts",
            [
                "update marts.mart_insight_funnel_steps set conversion_rate_from_previous = 1.25 "
                f"where step_number = 2 and {_ONE_FUNNEL}",
            ],
            {"funnel_conversion_rates_within_0_and_1"},
            id="conversion-above-one",
        ),
        pytest.param(
            "marts",
            [
                "update marts.mart_insight_trends set value = 0 where insight_id = 'weekly_active_companies' "
                "and (project_id, interval_start) = (select (project_id, interval_start) "
                "from marts.mart_insight_trends where insight_id = 'daily_active_companies' and value > 0 "
                "order by all limit 1)",
            ],
            {"weekly_and_monthly_actives_cover_daily_actives"},
            id="weekly-below-daily",
        ),
        pytest.param(
            "marts",
            ["update marts.fct_events set loaded_at = loaded_at - interval 3 day"],
            {"landed_data_freshness"},
            id="stale-data",
        ),
        pytest.param(
            "limits",
            [
                "insert into marts.dim_group_types select * replace ('sixth' as group_type, 5 as group_type_index) "
                "from marts.dim_group_types where project_id = (select project_id from marts.dim_group_types "
                "group by all order by count(*) desc, project_id limit 1) order by group_type_index limit 1",
            ],
            {"group_types_per_project", "group_type_indexes"},
            id="sixth-type",
        ),
        pytest.param(
            "limits",
            [
                "insert into marts.fct_event_groups select * replace ('second-key' as group_key) "
                "from marts.fct_event_groups order by all limit 1",
            ],
            {"event_group_keys"},
            id="two-keys-of-one-type",
        ),
    ],
)
def test_each_injected_violation_fails_the_audit_naming_its_check(
    built: Built, tmp_path: Path, suite: str, statements: list[str], failing_checks: set[str]
) -> None:
    database = _copy_with(built, tmp_path, statements)
    report = run_audit(database, [_suite(suite)])
    assert not report.passed
    assert {o.check for o in report.failures} == failing_checks, report.describe()
    described = report.describe()
    for check in failing_checks:
        assert f"{suite}.{check}" in described
    assert "offending row" in described


def test_the_fold_follows_the_configured_property_mode(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    # the sample has late and partial updates: merge and overwrite differ, and the build used merge
    monkeypatch.setenv("GW_AUDIT_GROUP_PROPERTY_MODE", "overwrite")
    report = run_audit(built.paths.build_db, [_suite("properties")])
    assert {o.check for o in report.failures} == {"current_properties_equal_the_fold"}


def test_a_failing_audit_publishes_nothing_and_the_data_docs_name_every_suite(
    built: Built, tmp_path: Path
) -> None:
    paths = warehouse_paths(tmp_path / "home").ensure()
    shutil.copy(built.paths.build_db, paths.build_db)
    report = audit(paths)
    publish(paths)

    assert report.data_docs is not None
    html = Path(report.data_docs).read_text()
    for suite in all_suites():
        for check in suite.checks:
            assert f"{suite.name}.{check.name}" in html

    with duckdb.connect(str(paths.build_db)) as connection:
        connection.execute(
            "update marts.dim_group_property_history set is_current = true, valid_to = null "
            f"where property_version = 1 and {_ONE_GROUP_WITH_TWO_VERSIONS}"
        )
        connection.execute("update marts.dim_groups set display_name = 'changed after the publish'")
    with pytest.raises(AuditFailed) as failure:
        audit(paths)
    assert "properties.property_history_intervals" in str(failure.value)
    assert "offending row" in str(failure.value)
    with duckdb.connect(str(paths.published_db), read_only=True) as reader:
        names = reader.execute("select distinct display_name from marts.dim_groups").fetchall()
    assert ("changed after the publish",) not in names and len(names) > 1
