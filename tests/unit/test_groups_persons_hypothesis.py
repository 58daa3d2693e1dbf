"""Hypothesis-generated event sequences: dbt's groups and persons equal the oracle's fold.

A dbt build costs seconds, so the examples are not built one by one: Hypothesis draws the
sequences (derandomized, so a failure reproduces), each becomes a project of its own in one tiny
lake, dbt builds them all at once, and every project is compared with the oracle. A failing
project names its example, which the assertion message prints in full.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gw.generator import GeneratedSample, GeneratorSettings, TruthEvent
from tests.oracle import (
    group_property_history,
    group_type_mapping,
    groups_dimension,
    person_distinct_ids,
    persons_dimension,
    properties_as_of_events,
)
from tests.unit.tiny_lake import build_marts, event, group_identify, query, utc, write_lake

EXAMPLES = 40
#: Projects 1 and 2 have declared group types (seeds/group_type_declarations.csv): stay clear.
_FIRST_PROJECT = 101
_START = datetime(2026, 10, 1, tzinfo=UTC)
_DISTINCT_IDS = ("anon-1", "anon-2", "a@x", "b@x", "u-1", "u-2", "$posthog_group_only")
_TYPES = ("company", "team", "project", "region", "channel", "workspace", "extra")
_KEYS = ("k1", "k2", "k3", "")
_PROPERTY_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(("x", "y", "")))
_PROPERTY_SETS = st.dictionaries(st.sampled_from(("name", "plan", "seats")), _PROPERTY_VALUES, max_size=3)

# One drawn step: (kind, minute offset, distinct id, payload).
_groups = st.dictionaries(
    st.sampled_from(_TYPES), st.one_of(st.sampled_from(_KEYS), st.integers(0, 3)), max_size=3
)
_steps = st.one_of(
    st.tuples(
        st.just("event"),
        st.integers(0, 600),
        st.sampled_from(_DISTINCT_IDS),
        st.tuples(_groups, st.one_of(st.none(), _PROPERTY_SETS), st.one_of(st.none(), _PROPERTY_SETS)),
    ),
    st.tuples(
        st.just("link"),
        st.integers(0, 600),
        st.sampled_from(_DISTINCT_IDS),
        st.tuples(
            st.sampled_from(("$identify", "$create_alias", "$merge_dangerously")),
            st.sampled_from(_DISTINCT_IDS),
        ),
    ),
    st.tuples(
        st.just("identify_group"),
        st.integers(0, 600),
        st.booleans(),  # sent by a server SDK ($<type>_<key>) or by a user's browser
        st.tuples(st.sampled_from(_TYPES[:3]), st.sampled_from(_KEYS[:3]), _PROPERTY_SETS),
    ),
)
_sequences = st.lists(st.tuples(_steps, st.integers(1, 4)), min_size=1, max_size=25)


def _events_of(project_id: int, steps: list[tuple[tuple[Any, ...], int]]) -> list[TruthEvent]:
    rows_per_file: dict[int, int] = {}
    events = []
    for (kind, minute, who, payload), file_number in steps:
        source = f"{file_number:04d}-project-{project_id:03d}.json"
        row = rows_per_file.get(file_number, 0)
        rows_per_file[file_number] = row + 1
        at = (_START + timedelta(minutes=minute)).replace(tzinfo=None).isoformat()
        if kind == "event":
            groups, person_set, person_set_once = payload
            events.append(
                event(
                    source,
                    row,
                    at,
                    project_id=project_id,
                    distinct_id=str(who),
                    groups=groups,
                    person_set=person_set,
                    person_set_once=person_set_once,
                )
            )
        elif kind == "link":
            name, other = payload
            prop = "$anon_distinct_id" if name == "$identify" else "alias"
            events.append(
                event(
                    source,
                    row,
                    at,
                    name=name,
                    project_id=project_id,
                    distinct_id=str(who),
                    properties={prop: other},
                )
            )
        else:
            group_type, key, group_set = payload
            sender = None if who else "u-1"
            events.append(
                group_identify(
                    source, row, at, group_type, key, group_set, distinct_id=sender, project_id=project_id
                )
            )
    return events


def _collect() -> list[list[tuple[tuple[Any, ...], int]]]:
    drawn: list[list[tuple[tuple[Any, ...], int]]] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(_sequences)
    def draw(steps: list[tuple[tuple[Any, ...], int]]) -> None:
        drawn.append(steps)

    draw()
    return drawn


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[int, GeneratedSample], dict[int, Any]]:
    examples = _collect()
    samples = {
        n: GeneratedSample(settings=GeneratorSettings(), files=[], events=_events_of(n, steps))
        for n, steps in enumerate(examples, start=_FIRST_PROJECT)
    }
    home = tmp_path_factory.mktemp("hypothesis-home")
    everything = [e for sample in samples.values() for e in sample.events]
    paths = write_lake(home, everything, projects=[(n, "UTC") for n in samples])
    build_marts(paths, home / "dbt-target")
    return paths, samples, dict(enumerate(examples, start=_FIRST_PROJECT))


def _by_project(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def test_generated_sequences_give_the_oracles_groups_history_and_persons(lake: Any) -> None:
    paths, samples, examples = lake
    types = _by_project(
        query(paths, "select project_id, group_type, group_type_index from marts.dim_group_types")
    )
    groups = _by_project(
        query(
            paths,
            "select project_id, group_type_index, group_key, properties, display_name, has_properties, "
            "is_identified, created_at, event_count from marts.dim_groups",
        )
    )
    history = _by_project(
        query(
            paths,
            "select project_id, group_type, group_key, property_version, properties, valid_from, valid_to "
            "from marts.dim_group_property_history",
        )
    )
    as_of = _by_project(
        query(
            paths,
            "select project_id, event_uuid, group_type_index, property_version, properties "
            "from marts.fct_event_group_properties",
        )
    )
    persons = _by_project(
        query(
            paths,
            "select project_id, person_id, canonical_distinct_id, properties, is_identified, created_at, "
            "distinct_id_count, event_count from marts.dim_persons",
        )
    )
    event_persons = _by_project(
        query(paths, "select project_id, event_uuid, person_id from marts.fct_events")
    )
    for project_id, sample in samples.items():
        context = f"example {project_id}: {examples[project_id]!r}"
        mapping = group_type_mapping(sample)
        assert {(t, i) for t, i in types.get(project_id, [])} == {
            (t, i) for (p, t), i in mapping.items() if p == project_id
        }, context
        assert {
            (i, k): (json.loads(props), name, has, identified, created, count)
            for i, k, props, name, has, identified, created, count in groups.get(project_id, [])
        } == {
            (i, k): (
                r.properties,
                r.display_name,
                r.has_properties,
                r.is_identified,
                utc(r.created_at),
                r.event_count,
            )
            for (_, i, k), r in groups_dimension(sample).items()
        }, context
        assert {
            (t, k, v): (json.loads(props), start, end)
            for t, k, v, props, start, end in history.get(project_id, [])
        } == {
            (t, k, v.version): (v.properties, utc(v.valid_from), utc(v.valid_to) if v.valid_to else None)
            for (_, t, k), versions in group_property_history(sample).items()
            if (project_id, t) in mapping
            for v in versions
        }, context
        assert {(u, i): (v, json.loads(props)) for u, i, v, props in as_of.get(project_id, [])} == {
            (u, i): answer for (_, u, i), answer in properties_as_of_events(sample).items()
        }, context
        assert {
            pid: (canonical, json.loads(props), identified, created, ids, count)
            for pid, canonical, props, identified, created, ids, count in persons.get(project_id, [])
        } == {
            pid: (
                r.canonical_distinct_id,
                r.properties,
                r.is_identified,
                utc(r.created_at),
                r.distinct_id_count,
                r.event_count,
            )
            for (_, pid), r in persons_dimension(sample).items()
        }, context
        expected_persons = person_distinct_ids(sample)
        assert dict(event_persons.get(project_id, [])) == {
            e.uuid: expected_persons.get((e.project_id, e.distinct_id)) for e in sample.events
        }, context
