"""The insight oracle's world, built from the generator's truth events with the other oracles.

Persons, their current properties and ``created_at`` (first event) come from
:mod:`tests.oracle.persons`; group type indices, group keys, current group properties, group
``created_at`` (first sighting) and properties as of each event from :mod:`tests.oracle.groups`.
Nothing here reads the warehouse.
"""

from __future__ import annotations

from datetime import date

from gw.generator import GeneratedSample, GeneratorSettings, TruthEvent
from tests.oracle.groups import group_key_text, groups_dimension, properties_as_of_events
from tests.oracle.insights import OracleEvent, OracleWorld
from tests.oracle.oracle import group_type_mapping
from tests.oracle.persons import person_distinct_ids, persons_dimension

__all__ = ["world_from_truth"]


def world_from_truth(
    events: list[TruthEvent],
    timezones: dict[int, str],
    run_date: date,
    week_start: str = "sunday",
) -> OracleWorld:
    """An :class:`OracleWorld` from truth events (deduplicated, as the generator returns them)."""
    sample = GeneratedSample(settings=GeneratorSettings(), files=[], events=list(events))
    mapping = group_type_mapping(sample)
    persons = person_distinct_ids(sample)
    oracle_events = []
    for event in events:
        groups: dict[int, str] = {}
        for group_type, value in event.groups.items():
            index, key = mapping.get((event.project_id, group_type)), group_key_text(value)
            if index is not None and key:
                groups[index] = key
        oracle_events.append(
            OracleEvent(
                uuid=event.uuid,
                project_id=event.project_id,
                event=event.event,
                timestamp=event.timestamp,
                properties=event.properties,
                person_id=persons.get((event.project_id, event.distinct_id)),
                groups=groups,
            )
        )
    group_rows = groups_dimension(sample)
    person_rows = persons_dimension(sample)
    return OracleWorld(
        events=oracle_events,
        timezones=timezones,
        run_date=run_date,
        group_properties={group: row.properties for group, row in group_rows.items()},
        group_created_at={group: row.created_at for group, row in group_rows.items()},
        group_properties_at_events={
            key: properties for key, (_, properties) in properties_as_of_events(sample).items()
        },
        person_properties={person: row.properties for person, row in person_rows.items()},
        person_created_at={person: row.created_at for person, row in person_rows.items()},
        week_start=week_start,
    )
