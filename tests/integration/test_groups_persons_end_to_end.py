"""Groups and persons end to end: generated capture files → land → dbt build → audit → publish.

The real landing step reads the generator's capture files (identity chains, an alias cycle, a late
``$merge_dangerously``, group-only events, the late older ``$groupidentify`` …); dbt builds the
whole project; the audit must pass and the published marts must equal the oracle's independent
fold of the generator's truth. Then ``gw delete-group`` (with events removed) and a rebuild must
leave no trace of the group in the build tables or the published file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import run_dbt
from gw.generator import GROUP_ONLY_DISTINCT_ID, GeneratedSample, GeneratorSettings, generate
from gw.pipeline import audit, land, publish
from tests.oracle import (
    group_daily_activity,
    group_persons,
    group_property_history,
    group_type_mapping,
    groups_dimension,
    person_distinct_ids,
    persons_dimension,
    properties_as_of_events,
    related_groups,
    without_deleted_groups,
)

pytestmark = pytest.mark.integration

SETTINGS = GeneratorSettings(events=2_500, groups=6, persons=30, days=8, seed=11)
DELETED = (1, "company", "globex-1")


@dataclass(frozen=True)
class Warehouse:
    paths: WarehousePaths
    sample: GeneratedSample
    target: Path


def _build(paths: WarehousePaths, target: Path, sample: GeneratedSample, **dbt_vars: str) -> None:
    run_dbt(
        paths, ["build"], dbt_vars={"run_date": sample.end_date().isoformat(), **dbt_vars}, target_path=target
    )
    audit(paths)
    publish(paths)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    paths = warehouse_paths(tmp_path_factory.mktemp("groups-persons-home")).ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, SETTINGS)
    land(paths)
    target = paths.home / "dbt-target"
    _build(paths, target, sample)
    return Warehouse(paths=paths, sample=sample, target=target)


def _published(paths: WarehousePaths, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(paths.published_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _utc(moment):  # type: ignore[no-untyped-def]
    from datetime import UTC

    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _check_against_oracle(
    paths: WarehousePaths, sample: GeneratedSample, mapping: dict[tuple[int, str], int]
) -> None:
    groups = _published(
        paths,
        "select project_id, group_type_index, group_key, group_type, display_name, properties, "
        "has_properties, is_identified, created_at, first_event_at, last_event_at, event_count "
        "from marts.dim_groups",
    )
    assert {(p, i, k): (t, n, json.loads(props), *rest) for p, i, k, t, n, props, *rest in groups} == {
        group: (
            r.group_type,
            r.display_name,
            r.properties,
            r.has_properties,
            r.is_identified,
            _utc(r.created_at),
            _utc(r.first_event_at),
            _utc(r.last_event_at),
            r.event_count,
        )
        for group, r in groups_dimension(sample, mapping=mapping).items()
    }
    history = _published(
        paths,
        "select project_id, group_type, group_key, property_version, properties, valid_from, valid_to "
        "from marts.dim_group_property_history",
    )
    assert {(p, t, k, v): (json.loads(props), f, to) for p, t, k, v, props, f, to in history} == {
        (p, t, k, v.version): (v.properties, _utc(v.valid_from), _utc(v.valid_to))
        for (p, t, k), versions in group_property_history(sample).items()
        if (p, t) in mapping
        for v in versions
    }
    as_of = _published(
        paths,
        "select project_id, event_uuid, group_type_index, property_version, properties "
        "from marts.fct_event_group_properties",
    )
    assert {(p, u, i): (v, json.loads(props)) for p, u, i, v, props in as_of} == properties_as_of_events(
        sample, mapping=mapping
    )
    persons = _published(
        paths,
        "select project_id, person_id, canonical_distinct_id, properties, is_identified, created_at, "
        "last_seen_at, distinct_id_count, event_count from marts.dim_persons",
    )
    assert {(p, pid): (c, json.loads(props), *rest) for p, pid, c, props, *rest in persons} == {
        person: (
            r.canonical_distinct_id,
            r.properties,
            r.is_identified,
            _utc(r.created_at),
            _utc(r.last_seen_at),
            r.distinct_id_count,
            r.event_count,
        )
        for person, r in persons_dimension(sample).items()
    }
    person_of_id = person_distinct_ids(sample)
    events = dict(_published(paths, "select event_uuid, person_id from marts.fct_events"))
    assert events == {e.uuid: person_of_id.get((e.project_id, e.distinct_id)) for e in sample.events}

    def person_of(e):  # type: ignore[no-untyped-def]
        return person_of_id.get((e.project_id, e.distinct_id))

    people = _published(
        paths,
        "select project_id, group_type_index, group_key, person_id, events from marts.fct_group_persons",
    )
    assert {row[:4]: row[4] for row in people} == {
        key: n for key, (_, _, n) in group_persons(sample, person_of, mapping).items()
    }
    related = _published(
        paths,
        "select project_id, group_type_index, group_key, related_group_type_index, related_group_key, "
        "shared_events from marts.fct_group_related_groups",
    )
    assert {row[:5]: row[5] for row in related} == related_groups(sample, mapping)
    daily = _published(
        paths,
        "select project_id, group_type_index, group_key, activity_date, events, active_persons "
        "from marts.fct_group_daily_activity",
    )
    assert {row[:4]: row[4:] for row in daily} == group_daily_activity(
        sample, paths.load_projects(), person_of, mapping
    )


def test_published_groups_history_and_persons_equal_the_oracle(warehouse: Warehouse) -> None:
    _check_against_oracle(warehouse.paths, warehouse.sample, group_type_mapping(warehouse.sample))


def test_the_generated_identities_resolve_as_intended(warehouse: Warehouse) -> None:
    rows = _published(
        warehouse.paths,
        "select project_id, distinct_id_count, is_identified from marts.dim_persons order by 2 desc",
    )
    assert max(count for _, count, _ in rows) >= 4  # anonymous → email → user id → CRM id
    null_people = _published(
        warehouse.paths, "select distinct distinct_id from marts.fct_events where person_id is null"
    )
    assert GROUP_ONLY_DISTINCT_ID in {d for (d,) in null_people}
    assert all(d == GROUP_ONLY_DISTINCT_ID or d.startswith("$") for (d,) in null_people)
    (merge,) = [e for e in warehouse.sample.events if e.event == "$merge_dangerously" and e.project_id == 1]
    person = dict(
        ((p, d), pid)
        for p, d, pid in _published(
            warehouse.paths, "select project_id, distinct_id, person_id from marts.dim_person_distinct_ids"
        )
    )
    assert person[(1, merge.distinct_id)] == person[(1, merge.properties["alias"])]


def _traces(database: Path, project_id: int, key: str) -> dict[str, int]:
    """Cells of the project's rows in base tables that still name the group: its key as a value,
    in `$groups` or a `$groupidentify`, its server distinct id or its domain property. (Other
    projects have a group with the same key; persons' e-mail addresses contain it too.)"""
    patterns = [f'"company":"{key}"', f'"$group_key":"{key}"', f"$company_{key}", f'"domain":"{key}.example"']
    found: dict[str, int] = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.execute(
            "select c.table_schema, c.table_name, c.column_name, "
            "exists (select 1 from information_schema.columns as p where p.table_catalog = c.table_catalog "
            "and p.table_schema = c.table_schema and p.table_name = c.table_name "
            "and p.column_name = 'project_id') as has_project "
            "from information_schema.columns as c "
            "inner join information_schema.tables as t using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column, has_project in columns:
            condition = " or ".join([f'"{column}" = ?'] + [f'contains("{column}", ?)' for _ in patterns])
            scope = f"project_id = {int(project_id)} and " if has_project else ""
            (count,) = connection.execute(
                f'select count(*) from "{schema}"."{table}" where {scope}({condition})', [key, *patterns]
            ).fetchone() or (0,)
            if count:
                found[f"{schema}.{table}.{column}"] = count
    return found


@pytest.fixture(scope="module")
def after_deletion(warehouse: Warehouse) -> Iterator[Warehouse]:
    from gw.cli import app

    assert _traces(warehouse.paths.published_db, DELETED[0], DELETED[2])  # there before
    result = CliRunner().invoke(
        app,
        [
            "delete-group",
            *map(str, DELETED),
            "--home",
            str(warehouse.paths.home),
            "--reason",
            "end-to-end test",
        ],
    )
    assert result.exit_code == 0, result.output
    _build(warehouse.paths, warehouse.target, warehouse.sample, group_deletion_events="remove")
    yield warehouse


def test_a_deleted_group_is_gone_from_every_table_and_the_published_marts(after_deletion: Warehouse) -> None:
    assert _traces(after_deletion.paths.build_db, DELETED[0], DELETED[2]) == {}
    assert _traces(after_deletion.paths.published_db, DELETED[0], DELETED[2]) == {}


def test_after_deletion_the_published_marts_equal_the_oracle_without_the_group(
    after_deletion: Warehouse,
) -> None:
    original = after_deletion.sample
    mapping = group_type_mapping(original)
    kept = without_deleted_groups(original, [DELETED], events_policy="remove")
    assert len(kept.events) < len(original.events)
    types = _published(
        after_deletion.paths, "select project_id, group_type, group_type_index from marts.dim_group_types"
    )
    assert {(p, t): i for p, t, i in types} == mapping  # indices never move
    _check_against_oracle(after_deletion.paths, kept, mapping)
    (row,) = _published(
        after_deletion.paths,
        "select project_id, group_type, events_policy, events_removed, group_identifies_removed "
        "from marts.fct_group_deletion_requests",
    )
    removed = sum(1 for e in original.events if (e.project_id, "company", e.groups.get("company")) == DELETED)
    identifies = sum(1 for e in original.events if (e.project_id, e.group_type, e.group_key) == DELETED)
    assert row == (1, "company", "remove", removed, identifies)
