"""The groups and persons oracle pinned on small hand-built samples (no dbt involved)."""

from __future__ import annotations

from datetime import UTC, datetime

from gw.generator import GeneratedSample, GeneratorSettings, TruthEvent
from tests.oracle import (
    group_key_text,
    group_only_distinct_ids,
    group_property_history,
    groups_dimension,
    person_distinct_ids,
    person_id_for,
    persons_dimension,
    properties_as_of_events,
    without_deleted_groups,
)
from tests.unit.tiny_lake import event, group_identify


def _sample(*events: TruthEvent) -> GeneratedSample:
    return GeneratedSample(settings=GeneratorSettings(), files=[], events=list(events))


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def test_person_id_is_the_md5_of_project_and_smallest_distinct_id_as_a_uuid() -> None:
    assert person_id_for(1, "a@x") == "899e519d-f51b-6973-d0fd-6832e0860aea"
    assert person_id_for(2, "a@x") != person_id_for(1, "a@x")


def test_chains_cycles_and_merges_make_one_person_and_group_only_ids_none() -> None:
    sample = _sample(
        event("1", 0, "2026-10-01T08:00:00", distinct_id="anon"),
        event("1", 1, "2026-10-01T08:01:00", name="$identify", distinct_id="m@x", properties={"$anon_distinct_id": "anon"}),
        event("1", 2, "2026-10-01T08:02:00", name="$create_alias", distinct_id="m@x", properties={"alias": "u1"}),
        event("1", 3, "2026-10-01T08:03:00", name="$create_alias", distinct_id="c", properties={"alias": "d"}),
        event("1", 4, "2026-10-01T08:04:00", name="$create_alias", distinct_id="d", properties={"alias": "c"}),
        event("2", 0, "2026-10-01T07:00:00", name="$merge_dangerously", distinct_id="z@x", properties={"alias": "u1"}),
        event("2", 1, "2026-10-01T07:00:00", name="$identify", distinct_id="q@x", properties={"$anon_distinct_id": "$posthog_group_only"}),
        group_identify("2", 2, "2026-10-01T07:00:00", "company", "acme", {"name": "Acme"}),
    )  # fmt: skip
    persons = person_distinct_ids(sample)
    merged = person_id_for(1, "anon")  # "anon" < "m@x" < "u1" < "z@x"
    assert {d for (_, d), p in persons.items() if p == merged} == {"anon", "m@x", "u1", "z@x"}
    assert persons[(1, "c")] == persons[(1, "d")] == person_id_for(1, "c")
    assert persons[(1, "q@x")] == person_id_for(1, "q@x")  # the link to a group-only id is ignored
    assert (1, "$posthog_group_only") not in persons and (1, "$company_acme") not in persons
    assert group_only_distinct_ids(sample) == {(1, "$posthog_group_only"), (1, "$company_acme")}


def test_person_properties_set_last_wins_and_set_once_first_wins_across_ids() -> None:
    sample = _sample(
        event("1", 0, "2026-10-01T08:00:00", distinct_id="anon", person_set_once={"ref": "ad"}),
        event(
            "1", 1, "2026-10-01T08:05:00", name="$identify", distinct_id="m@x",
            properties={"$anon_distinct_id": "anon"}, person_set={"plan": "free"},
            person_set_once={"ref": "direct", "plan": "never"},
        ),
        event("3", 0, "2026-10-02T08:00:00", distinct_id="m@x", person_set={"plan": "pro"}),
        event("2", 0, "2026-10-01T09:00:00", distinct_id="m@x", person_set={"plan": "team"}, person_set_once={"x": 1}),
    )  # fmt: skip
    (row,) = persons_dimension(sample).values()
    assert row.properties == {"ref": "ad", "plan": "pro", "x": 1}
    assert (row.canonical_distinct_id, row.distinct_id_count, row.event_count) == ("anon", 2, 4)
    assert row.is_identified and row.created_at == _at("2026-10-01T08:00:00")


def test_history_versions_follow_event_time_and_as_of_reads_the_version_valid_then() -> None:
    first = group_identify("1", 0, "2026-10-01T10:00:00", "company", "acme", {"name": "Acme", "plan": "free"})
    newer = group_identify("2", 0, "2026-10-03T10:00:00", "company", "acme", {"plan": "pro"})
    late = group_identify("3", 0, "2026-10-02T10:00:00", "company", "acme", {"plan": "trial", "seats": 3})
    seen = event("3", 1, "2026-10-02T10:00:00", groups={"company": "acme"})
    before = event("3", 2, "2026-10-01T09:00:00", groups={"company": "acme"})
    sample = _sample(first, newer, late, seen, before)
    versions = group_property_history(sample)[(1, "company", "acme")]
    assert [(v.version, v.update_uuid, v.properties) for v in versions] == [
        (1, first.uuid, {"name": "Acme", "plan": "free"}),
        (2, late.uuid, {"name": "Acme", "plan": "trial", "seats": 3}),
        (3, newer.uuid, {"name": "Acme", "plan": "pro", "seats": 3}),
    ]
    assert [v.valid_to for v in versions] == [late.timestamp, newer.timestamp, None]
    assert group_property_history(sample, "overwrite")[(1, "company", "acme")][2].properties == {
        "plan": "pro"
    }
    as_of = properties_as_of_events(sample)
    assert as_of[(1, seen.uuid, 0)] == (
        2,
        {"name": "Acme", "plan": "trial", "seats": 3},
    )  # same instant: applied
    assert as_of[(1, before.uuid, 0)] == (None, {})
    row = groups_dimension(sample)[(1, 0, "acme")]
    assert (row.display_name, row.created_at, row.event_count) == ("Acme", before.timestamp, 2)


def test_keys_are_stringified_like_the_loader_and_empty_means_no_group() -> None:
    assert [group_key_text(v) for v in (42, 5.0, 0.5, True, "", None, "k")] == [
        "42",
        "5",
        "0.5",
        "true",
        None,
        None,
        "k",
    ]
    sample = _sample(event("1", 0, "2026-10-01T10:00:00", groups={"company": 5.0, "team": ""}))
    assert set(groups_dimension(sample)) == {(1, 0, "5")}


def test_deleting_a_group_drops_its_identifies_and_detaches_or_removes_its_events() -> None:
    carried = event("1", 0, "2026-10-01T10:00:00", groups={"company": "acme", "team": "t"})
    other = event("1", 1, "2026-10-01T10:00:00", groups={"company": "other"})
    identify = group_identify("1", 2, "2026-10-01T10:00:00", "company", "acme", {"name": "Acme"})
    sample = _sample(carried, other, identify)
    detached = without_deleted_groups(sample, [(1, "company", "acme")])
    assert [(e.uuid, e.groups) for e in detached.events] == [
        (carried.uuid, {"team": "t"}),
        (other.uuid, other.groups),
    ]
    removed = without_deleted_groups(sample, [(1, "company", "acme")], events_policy="remove")
    assert [e.uuid for e in removed.events] == [other.uuid]
    assert sample.events == [carried, other, identify]  # the original is untouched
