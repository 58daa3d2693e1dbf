"""Groups and persons, built by dbt on a tiny hand-made lake and checked against the oracle.

One dbt build (its ``unit_tests:`` included) of a sample that holds every awkward case at once:
an identity chain, an alias cycle, a late ``$merge_dangerously``, group-only events, a late and
older ``$groupidentify``, a group identified without properties, non-string and empty keys and a
sixth group type. A second build after ``gw delete-group`` must leave no trace of the group.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gw.config import WarehousePaths, warehouse_paths
from gw.deletion import read_group_deletion_requests, request_group_deletion
from gw.generator import GeneratedSample, GeneratorSettings, TruthEvent
from gw.publish import publish
from tests.oracle import (
    group_daily_activity,
    group_daily_event_counts,
    group_persons,
    group_property_history,
    group_type_mapping,
    groups_dimension,
    person_distinct_ids,
    person_id_for,
    persons_dimension,
    properties_as_of_events,
    related_groups,
    without_deleted_groups,
)
from tests.unit.tiny_lake import build_marts, event, group_identify, query, utc, write_lake

DELETED = (1, "company", "globex")


def _events() -> list[TruthEvent]:
    return [
        # 0001: anonymous → identified → aliased; groups identified; group-only and empty keys
        event(
            "0001.json", 0, "2026-10-01T08:00:00", distinct_id="anon-1", groups={"company": "acme"},
            person_set_once={"first_touch": "ad"},
        ),
        event(
            "0001.json", 1, "2026-10-01T08:05:00", name="$identify", distinct_id="a@x",
            properties={"$anon_distinct_id": "anon-1"},
            person_set={"email": "a@x", "plan": "free"},
            person_set_once={"first_touch": "direct", "signup": "2026-10-01"},
        ),
        group_identify("0001.json", 2, "2026-10-01T08:10:00", "company", "acme", {"name": "Acme", "plan": "free"}),
        event(
            "0001.json", 3, "2026-10-01T09:00:00", name="insight_viewed", distinct_id="a@x",
            groups={"company": "acme", "team": "t1", "project": 7},
        ),
        event(
            "0001.json", 4, "2026-10-01T09:30:00", name="invoice_paid", distinct_id="$posthog_group_only",
            groups={"company": "acme"},
        ),
        group_identify("0001.json", 5, "2026-10-01T09:40:00", "team", "t1", {}),
        event(
            "0001.json", 6, "2026-10-01T10:00:00", name="$create_alias", distinct_id="a@x",
            properties={"alias": "user-9"},
        ),
        event(
            "0001.json", 7, "2026-10-01T10:05:00", distinct_id="user-9", groups={"company": "globex", "team": ""},
            person_set={"plan": "pro"},
        ),
        group_identify("0001.json", 8, "2026-10-01T10:10:00", "company", "globex", {"name": "Globex Corp"}),
        event("0001.json", 9, "2026-10-01T10:20:00", distinct_id="c2", groups={"company": "globex", "project": 7}),
        # 0002: a newer update, an alias cycle, a second person to be merged later
        group_identify("0002.json", 0, "2026-10-02T10:00:00", "company", "acme", {"plan": "pro", "employees": 10}),
        event("0002.json", 1, "2026-10-01T11:00:00", name="$create_alias", distinct_id="c1", properties={"alias": "c2"}),
        event("0002.json", 2, "2026-10-01T11:01:00", name="$create_alias", distinct_id="c2", properties={"alias": "c3"}),
        event("0002.json", 3, "2026-10-01T11:02:00", name="$create_alias", distinct_id="c3", properties={"alias": "c1"}),
        event("0002.json", 4, "2026-10-01T11:03:00", distinct_id="c3", person_set={"theme": "dark"}),
        event(
            "0002.json", 5, "2026-10-01T12:00:00", distinct_id="b@x", groups={"company": "acme"},
            person_set={"email": "b@x", "plan": "enterprise"},
        ),
        event("0002.json", 6, "2026-10-03T09:00:00", distinct_id="solo"),
        # a browser's $groupidentify carries the user's own distinct id: it stays a person
        group_identify(
            "0002.json", 7, "2026-10-02T11:00:00", "company", "initech", {"name": "Initech"}, distinct_id="a@x"
        ),
        # 0003: project 2 — non-string keys and a sixth type
        event(
            "0003.json", 0, "2026-10-01T14:00:00", project_id=2, distinct_id="p2",
            groups={"company": "c", "team": "t", "project": "p", "workspace": "w", "region": "r"},
        ),
        event("0003.json", 1, "2026-10-01T15:00:00", project_id=2, distinct_id="p2", groups={"company": "c", "channel": "web"}),
        event("0003.json", 2, "2026-10-01T16:00:00", project_id=2, distinct_id="p2", groups={"company": 42, "team": True}),
        event("0003.json", 3, "2026-10-01T17:00:00", project_id=2, distinct_id="p2", groups={"company": 5.0}),
        # 0004 lands last: an older update of acme and a merge of b@x into a@x's person
        group_identify(
            "0004.json", 0, "2026-10-01T12:00:00", "company", "acme", {"plan": "trial", "billing": "b@acme"}
        ),
        event(
            "0004.json", 1, "2026-10-02T09:00:00", name="$merge_dangerously", distinct_id="b@x",
            properties={"alias": "a@x"},
        ),
    ]  # fmt: skip


@dataclass(frozen=True)
class Built:
    paths: WarehousePaths
    sample: GeneratedSample
    target: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    home = tmp_path_factory.mktemp("tiny-home")
    sample = GeneratedSample(settings=GeneratorSettings(), files=[], events=_events())
    paths = write_lake(home, sample.events)
    target = home / "dbt-target"
    build_marts(paths, target)  # raises DbtError naming any failing model, test or unit test
    return Built(paths=paths, sample=sample, target=target)


def _dim_groups(paths: WarehousePaths) -> dict[tuple[int, int, str], tuple[object, ...]]:
    rows = query(
        paths,
        "select project_id, group_type_index, group_key, group_type, display_name, properties, has_properties, "
        "is_identified, created_at, first_event_at, last_event_at, event_count, properties_updated_at "
        "from marts.dim_groups",
    )
    return {(p, i, k): (t, n, json.loads(props), *rest) for p, i, k, t, n, props, *rest in rows}


def _expected_dim_groups(sample: GeneratedSample, mapping: dict[tuple[int, str], int] | None = None) -> dict:
    return {
        group: (
            row.group_type,
            row.display_name,
            row.properties,
            row.has_properties,
            row.is_identified,
            utc(row.created_at),
            utc(row.first_event_at) if row.first_event_at else None,
            utc(row.last_event_at) if row.last_event_at else None,
            row.event_count,
            utc(row.properties_updated_at) if row.properties_updated_at else None,
        )
        for group, row in groups_dimension(sample, mapping=mapping).items()
    }


def _history(paths: WarehousePaths) -> dict[tuple[int, str, str], list[tuple[object, ...]]]:
    rows = query(
        paths,
        "select project_id, group_type, group_key, property_version, properties, valid_from, valid_to, "
        "is_current, update_event_uuid from marts.dim_group_property_history order by all",
    )
    found: dict[tuple[int, str, str], list[tuple[object, ...]]] = {}
    for p, t, k, version, props, valid_from, valid_to, current, uuid in rows:
        found.setdefault((p, t, k), []).append(
            (version, json.loads(props), valid_from, valid_to, current, uuid)
        )
    return found


def _expected_history(sample: GeneratedSample, mapping: dict[tuple[int, str], int]) -> dict:
    return {
        group: [
            (
                v.version,
                v.properties,
                utc(v.valid_from),
                utc(v.valid_to) if v.valid_to else None,
                v.is_current,
                v.update_uuid,
            )
            for v in versions
        ]
        for group, versions in group_property_history(sample).items()
        if (group[0], group[1]) in mapping
    }


def _persons(paths: WarehousePaths) -> dict[tuple[int, str], tuple[object, ...]]:
    rows = query(
        paths,
        "select project_id, person_id, canonical_distinct_id, properties, is_identified, created_at, "
        "last_seen_at, distinct_id_count, event_count from marts.dim_persons",
    )
    return {(p, pid): (canonical, json.loads(props), *rest) for p, pid, canonical, props, *rest in rows}


def _expected_persons(sample: GeneratedSample) -> dict:
    return {
        person: (
            row.canonical_distinct_id,
            row.properties,
            row.is_identified,
            utc(row.created_at),
            utc(row.last_seen_at),
            row.distinct_id_count,
            row.event_count,
        )
        for person, row in persons_dimension(sample).items()
    }


def _person_of(sample: GeneratedSample):  # type: ignore[no-untyped-def]
    persons = person_distinct_ids(sample)
    return lambda e: persons.get((e.project_id, e.distinct_id))


# --- groups -------------------------------------------------------------------------------------


def test_type_indices_and_the_sixth_type_match_the_oracle(built: Built) -> None:
    mapping = dict(
        ((p, t), i)
        for p, t, i in query(
            built.paths, "select project_id, group_type, group_type_index from marts.dim_group_types"
        )
    )
    assert mapping == group_type_mapping(built.sample)
    violations = query(
        built.paths,
        "select project_id, group_type, first_seen_at, last_seen_at, events_affected "
        "from marts.fct_group_type_limit_violations",
    )
    assert violations == [
        (2, "channel", utc(built.sample.events[19].timestamp), utc(built.sample.events[19].timestamp), 1)
    ]


def test_dim_groups_matches_the_oracle(built: Built) -> None:
    assert _dim_groups(built.paths) == _expected_dim_groups(built.sample)


def test_group_rules_on_the_awkward_cases(built: Built) -> None:
    groups = _dim_groups(built.paths)
    acme = groups[(1, 0, "acme")]
    # the late older update keeps only what nothing newer sent: billing stays, plan is the newest
    assert acme[2] == {"name": "Acme", "plan": "pro", "employees": 10, "billing": "b@acme"}
    assert acme[1] == "Acme"
    team = groups[(1, 1, "t1")]
    assert team[2:5] == ({}, False, True)  # identified without properties: not in the groups list
    assert (1, 1, "") not in groups  # an empty key is no group
    assert {k for p, i, k in groups if p == 1 and i == 2} == {"7"}  # a number key is stringified
    assert {(i, k) for p, i, k in groups if p == 2} >= {(0, "42"), (0, "5"), (1, "true")}
    listed = {
        (p, i, k)
        for p, i, k in query(
            built.paths, "select project_id, group_type_index, group_key from marts.dim_groups_list"
        )
    }
    assert listed == {group for group, row in groups.items() if row[2]}


def test_property_history_matches_the_oracle(built: Built) -> None:
    mapping = group_type_mapping(built.sample)
    history = _history(built.paths)
    assert history == _expected_history(built.sample, mapping)
    acme = history[(1, "company", "acme")]
    assert [v[1].get("plan") for v in acme] == ["free", "trial", "pro"]
    assert [v[4] for v in acme] == [False, False, True]


def test_properties_as_of_events_match_the_oracle(built: Built) -> None:
    rows = query(
        built.paths,
        "select project_id, event_uuid, group_type_index, property_version, properties "
        "from marts.fct_event_group_properties",
    )
    found = {(p, u, i): (v, json.loads(props)) for p, u, i, v, props in rows}
    assert found == properties_as_of_events(built.sample)
    # b@x's event at 12:00 sees the update made at that very instant (the late, older one)
    b_event = built.sample.events[15]
    assert found[(1, b_event.uuid, 0)] == (2, {"name": "Acme", "plan": "trial", "billing": "b@acme"})


def test_group_pages_match_the_oracle(built: Built) -> None:
    sample, person_of = built.sample, _person_of(built.sample)
    projects = built.paths.load_projects()
    people = query(
        built.paths,
        "select project_id, group_type_index, group_key, person_id, first_seen_at, last_seen_at, events "
        "from marts.fct_group_persons",
    )
    assert {(p, i, k, who): (f, last, n) for p, i, k, who, f, last, n in people} == {
        key: (utc(f), utc(last), n) for key, (f, last, n) in group_persons(sample, person_of).items()
    }
    related = query(
        built.paths,
        "select project_id, group_type_index, group_key, related_group_type_index, related_group_key, "
        "shared_events from marts.fct_group_related_groups",
    )
    assert {row[:5]: row[5] for row in related} == related_groups(sample)
    daily = query(
        built.paths,
        "select project_id, group_type_index, group_key, activity_date, events, active_persons "
        "from marts.fct_group_daily_activity",
    )
    assert {row[:4]: row[4:] for row in daily} == group_daily_activity(sample, projects, person_of)
    by_name = query(
        built.paths,
        "select project_id, group_type_index, group_key, activity_date, event, events "
        "from marts.fct_group_daily_event_counts",
    )
    assert {row[:5]: row[5] for row in by_name} == group_daily_event_counts(sample, projects)


# --- persons ------------------------------------------------------------------------------------


def test_dim_persons_matches_the_oracle(built: Built) -> None:
    assert _persons(built.paths) == _expected_persons(built.sample)


def test_identity_chains_cycles_late_merges_and_group_only_ids(built: Built) -> None:
    person = dict(
        ((p, d), pid)
        for p, d, pid in query(
            built.paths, "select project_id, distinct_id, person_id from marts.dim_person_distinct_ids"
        )
    )
    merged = person_id_for(1, "a@x")
    assert {d for (p, d), pid in person.items() if pid == merged} == {"a@x", "anon-1", "user-9", "b@x"}
    assert {d for (p, d), pid in person.items() if pid == person_id_for(1, "c1")} == {"c1", "c2", "c3"}
    assert not {d for _, d in person} & {"$posthog_group_only", "$company_acme", "$team_t1"}
    events = dict(query(built.paths, "select event_uuid, person_id from marts.fct_events"))
    expected = person_distinct_ids(built.sample)
    assert events == {e.uuid: expected.get((e.project_id, e.distinct_id)) for e in built.sample.events}
    assert events[built.sample.events[4].uuid] is None  # the group-only invoice has no person
    properties = _persons(built.paths)[(1, merged)][1]
    assert properties["first_touch"] == "ad"  # the anonymous, earliest $set_once wins
    assert properties["email"] == "b@x"  # the latest $set wins, across the merged ids


# --- deletion -----------------------------------------------------------------------------------


def _tables_naming(database: Path, needle: str, table_type: str = "BASE TABLE") -> set[str]:
    """``schema.table`` of every table (or view) with a text column that contains ``needle``."""
    found = set()
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns as c "
            "inner join information_schema.tables as t using (table_catalog, table_schema, table_name) "
            "where t.table_type = ? and c.data_type = 'VARCHAR'",
            [table_type],
        ).fetchall()
        for schema, table, column in columns:
            (count,) = connection.execute(
                f'select count(*) from "{schema}"."{table}" where contains(lower("{column}"), ?)', [needle]
            ).fetchone() or (0,)
            if count:
                found.add(f"{schema}.{table}")
    return found


@dataclass(frozen=True)
class Deleted:
    before: Built
    paths: WarehousePaths


@pytest.fixture(scope="module")
def deleted(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deleted]:
    home = tmp_path_factory.mktemp("tiny-home-deleted")
    shutil.copytree(built.paths.home, home, dirs_exist_ok=True)
    paths = warehouse_paths(home)
    publish(paths)
    assert _tables_naming(paths.published_db, "globex")  # the group is there before
    request_group_deletion(paths, *DELETED, requested_by="test-operator", reason="customer asked")
    build_marts(paths, home / "dbt-target")
    publish(paths)
    yield Deleted(before=built, paths=paths)


def test_a_deleted_group_leaves_no_trace_in_any_table_or_the_published_marts(deleted: Deleted) -> None:
    assert _tables_naming(deleted.paths.build_db, "globex") == set()
    assert _tables_naming(deleted.paths.published_db, "globex") == set()
    # only the raw lake and the request log (views over files) still name it
    assert _tables_naming(deleted.paths.build_db, "globex", "VIEW") <= {
        "staging.stg_lake__events",
        "staging.stg_warehouse__group_deletions",
    }


def test_after_deletion_the_marts_equal_the_oracle_without_the_group(deleted: Deleted) -> None:
    original = deleted.before.sample
    mapping = group_type_mapping(original)
    kept = without_deleted_groups(original, [DELETED])
    types = dict(
        ((p, t), i)
        for p, t, i in query(
            deleted.paths, "select project_id, group_type, group_type_index from marts.dim_group_types"
        )
    )
    assert types == mapping  # indices never move
    assert _dim_groups(deleted.paths) == _expected_dim_groups(kept, mapping)
    assert _history(deleted.paths) == _expected_history(kept, mapping)
    assert _persons(deleted.paths) == _expected_persons(kept)
    events = {
        u: (g0, json.loads(props))
        for u, g0, props in query(
            deleted.paths, "select event_uuid, group_0, properties from marts.fct_events"
        )
    }
    assert set(events) == {e.uuid for e in kept.events}  # detached, not removed; its identify is gone
    detached = original.events[9]  # c2's event carried globex and project 7
    assert events[detached.uuid] == ("", {"$groups": {"project": 7}})


def test_the_deletion_request_is_recorded_and_reported(deleted: Deleted) -> None:
    (request,) = read_group_deletion_requests(deleted.paths)
    assert (request.project_id, request.group_type, request.group_key) == DELETED
    assert request.requested_by == "test-operator" and request.reason == "customer asked"
    rows = query(
        deleted.paths,
        "select request_id, project_id, group_type, requested_by, events_policy, events_detached, "
        "events_removed, group_identifies_removed from marts.fct_group_deletion_requests",
    )
    assert rows == [(request.request_id, 1, "company", "test-operator", "detach", 2, 0, 1)]


def test_gw_delete_group_appends_a_request(tmp_path: Path) -> None:
    from gw.cli import app

    paths = warehouse_paths(tmp_path).ensure()
    paths.write_demo_projects()
    runner = CliRunner()
    ok = runner.invoke(
        app, ["delete-group", "1", "company", "acme-0", "--home", str(tmp_path), "--requested-by", "ops"]
    )
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        app, ["delete-group", "2", "team", "42", "--home", str(tmp_path), "--reason", "gdpr"]
    )
    assert again.exit_code == 0, again.output
    unknown = runner.invoke(app, ["delete-group", "9", "company", "x", "--home", str(tmp_path)])
    assert unknown.exit_code == 1 and "project 9" in unknown.output
    requests = read_group_deletion_requests(paths)
    assert [(r.project_id, r.group_type, r.group_key, r.requested_by) for r in requests][0] == (
        1,
        "company",
        "acme-0",
        "ops",
    )
    assert (requests[1].group_key, requests[1].reason) == ("42", "gdpr")
    assert requests[0].request_id != requests[1].request_id
    assert requests[0].requested_at <= requests[1].requested_at
