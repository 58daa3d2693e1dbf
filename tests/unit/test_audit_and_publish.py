"""The limits suite, the marts suite's date-spine, bound and freshness checks, and the publish step,
on small hand-built build files (no dbt needed). The suites that need a whole warehouse (property
behaviour, funnels, trends) and the audit → publish gate run on a dbt-built one:
tests/unit/test_audit_real_warehouse.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from expectations import AuditReport, run_audit
from expectations.checks import Suite
from expectations.suites import all_suites
from gw.config import warehouse_paths
from gw.pipeline import publish

#: The checks whose marts the hand-built file holds.
HAND_BUILT_CHECKS = {
    "limits": None,  # every check
    "marts": {"daily_active_groups_spine", "active_groups_within_known_groups", "landed_data_freshness"},
}


def hand_built_suites() -> list[Suite]:
    """The suites (and checks) a hand-built file can answer, configured from the environment."""
    chosen = []
    for suite in all_suites():
        if suite.name not in HAND_BUILT_CHECKS:
            continue
        names = HAND_BUILT_CHECKS[suite.name]
        checks = tuple(c for c in suite.checks if names is None or c.name in names)
        chosen.append(Suite(name=suite.name, description=suite.description, checks=checks))
    return chosen


def audit_hand_built(database: Path, gx_root: Path | None = None) -> AuditReport:
    """The audit of a hand-built file, with the suites it can answer."""
    return run_audit(database, hand_built_suites(), gx_root=gx_root)


def _make_build_db(path: Path, *, group_types: list[tuple[int, str, int]], bridge_keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.dim_group_types (project_id bigint, group_type varchar, group_type_index integer)"
        )
        if group_types:
            connection.executemany("insert into marts.dim_group_types values (?, ?, ?)", group_types)
        connection.execute(
            "create table marts.fct_event_groups (project_id bigint, event_uuid varchar, "
            "group_type_index integer, group_type varchar, group_key varchar)"
        )
        if bridge_keys:
            connection.executemany(
                "insert into marts.fct_event_groups values (1, ?, 0, 'company', ?)",
                [(f"e{i}", key) for i, key in enumerate(bridge_keys)],
            )
        connection.execute(
            "create table marts.fct_group_type_limit_violations "
            "(project_id bigint, group_type varchar, events_affected bigint)"
        )
        connection.execute(
            "create table marts.dim_groups as "
            "select 1::bigint as project_id, 0 as group_type_index, 'company' as group_type, key as group_key "
            "from unnest(['a', 'b', 'c']) as keys(key)"
        )
        connection.execute(
            "create table marts.fct_daily_active_groups as "
            "select 1::bigint as project_id, 0 as group_type_index, 'company' as group_type, "
            "cast(day as date) as activity_date, 2::bigint as active_groups, 5::bigint as events "
            "from generate_series(date '2026-10-01', date '2026-10-05', interval 1 day) as days(day)"
        )
        connection.execute(
            "create table marts.fct_events as "
            "select 'e1' as event_uuid, cast(current_timestamp at time zone 'UTC' as timestamp) as loaded_at"
        )


CLEAN_TYPES = [(1, "company", 0), (1, "team", 1), (2, "company", 0)]


def test_clean_build_passes_the_audit(tmp_path: Path) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=CLEAN_TYPES, bridge_keys=["a", "b"])
    report = audit_hand_built(database)
    assert report.passed, report.describe()
    assert len(report.outcomes) >= 8


@pytest.mark.parametrize(
    ("group_types", "bridge_keys", "failing_check"),
    [
        pytest.param(
            [(1, t, i) for i, t in enumerate(["a", "b", "c", "d", "e"])] + [(1, "f", 4)],
            ["a"],
            "group_types_per_project",
            id="sixth-type",
        ),
        pytest.param(CLEAN_TYPES + [(1, "region", 7)], ["a"], "group_type_indexes", id="index-out-of-range"),
        pytest.param(CLEAN_TYPES + [(1, "region", 1)], ["a"], "group_type_indexes", id="index-reused"),
        pytest.param(CLEAN_TYPES, ["a", ""], "event_group_keys", id="empty-key-attached"),
        pytest.param(CLEAN_TYPES, [], "event_group_keys", id="nothing-to-check"),
        pytest.param([], ["a"], "group_types_per_project", id="no-types-at-all"),
    ],
)
def test_each_violation_fails_the_audit(
    tmp_path: Path, group_types: list[tuple[int, str, int]], bridge_keys: list[str], failing_check: str
) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=group_types, bridge_keys=bridge_keys)
    report = audit_hand_built(database)
    assert not report.passed
    assert failing_check in {outcome.check for outcome in report.failures}
    assert failing_check in report.describe()


@pytest.mark.parametrize(
    ("corruption", "failing_check"),
    [
        pytest.param(
            "delete from marts.fct_daily_active_groups where activity_date = date '2026-10-03'",
            "daily_active_groups_spine",
            id="gap-in-date-spine",
        ),
        pytest.param(
            "update marts.fct_daily_active_groups set active_groups = 4 where activity_date = date '2026-10-02'",
            "active_groups_within_known_groups",
            id="more-active-than-known",
        ),
        pytest.param(
            "update marts.fct_events set loaded_at = loaded_at - interval 3 day",
            "landed_data_freshness",
            id="stale-data",
        ),
        pytest.param("delete from marts.fct_events", "landed_data_freshness", id="no-events"),
        pytest.param(
            "insert into marts.fct_group_type_limit_violations values (2, 'channel', 20000)",
            "group_type_limit_violations_fail",
            id="too-many-events-beyond-the-type-limit",
        ),
        pytest.param(
            "insert into marts.fct_event_groups values (1, 'e0', 0, 'company', 'second')",
            "event_group_keys",
            id="two-keys-of-one-type",
        ),
    ],
)
def test_each_mart_violation_fails_the_audit(tmp_path: Path, corruption: str, failing_check: str) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=CLEAN_TYPES, bridge_keys=["a", "b"])
    with duckdb.connect(str(database)) as connection:
        connection.execute(corruption)
    report = audit_hand_built(database)
    assert not report.passed
    assert failing_check in {outcome.check for outcome in report.failures}


def test_thresholds_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=CLEAN_TYPES, bridge_keys=["a"])
    with duckdb.connect(str(database)) as connection:
        connection.execute("insert into marts.fct_group_type_limit_violations values (2, 'channel', 50)")
    assert audit_hand_built(database).passed
    monkeypatch.setenv("GW_AUDIT_LIMIT_VIOLATION_FAIL_EVENTS", "49")
    assert [o.check for o in audit_hand_built(database).failures] == ["group_type_limit_violations_fail"]


def test_data_docs_are_built_and_name_every_check_run(tmp_path: Path) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=CLEAN_TYPES, bridge_keys=["a"])
    report = audit_hand_built(database, gx_root=tmp_path / "gx")
    assert report.data_docs is not None
    index = Path(report.data_docs)
    assert index.name == "index.html" and index.exists()
    html = index.read_text()
    for suite in hand_built_suites():
        for check in suite.checks:
            assert f"{suite.name}.{check.name}" in html


def test_a_missing_mart_fails_instead_of_being_skipped(tmp_path: Path) -> None:
    database = tmp_path / "build.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
    report = audit_hand_built(database)
    assert not report.passed
    assert {o.expectation for o in report.failures} == {"audit_query_runs"}


def test_limit_violations_warn_without_blocking(tmp_path: Path) -> None:
    database = tmp_path / "build.duckdb"
    _make_build_db(database, group_types=CLEAN_TYPES, bridge_keys=["a"])
    with duckdb.connect(str(database)) as connection:
        connection.execute("insert into marts.fct_group_type_limit_violations values (1, 'channel', 12)")
    report = audit_hand_built(database)
    assert report.passed
    assert [w.check for w in report.warnings] == ["group_type_limit_violations_warn"]
    assert "channel" in report.describe()


def test_publish_is_atomic_for_a_reader_holding_the_old_file(tmp_path: Path) -> None:
    paths = warehouse_paths(tmp_path / "home").ensure()
    _make_build_db(paths.build_db, group_types=CLEAN_TYPES, bridge_keys=["old"])
    publish(paths)
    reader = duckdb.connect(str(paths.published_db), read_only=True)
    try:
        with duckdb.connect(str(paths.build_db)) as connection:
            connection.execute("update marts.fct_event_groups set group_key = 'new'")
        result = publish(paths)
        assert result.tables["fct_event_groups"] == 1
        # The open reader still sees the complete old publish...
        assert reader.execute("select group_key from marts.fct_event_groups").fetchall() == [("old",)]
    finally:
        reader.close()
    # ...and a new reader sees the new one; no temporary files are left behind.
    with duckdb.connect(str(paths.published_db), read_only=True) as fresh:
        assert fresh.execute("select group_key from marts.fct_event_groups").fetchall() == [("new",)]
    assert sorted(p.name for p in paths.published_db.parent.iterdir()) == ["warehouse.duckdb"]
