"""Independent answers about groups: dimensions, property history, group pages and deletions.

Plain Python over :class:`gw.generator.TruthEvent` lists, written from the rules in
``docs/groups.md`` without looking at the SQL. Group type indices come from
:func:`tests.oracle.oracle.group_type_mapping` (landing order of first sightings).

* **Keys**: a ``$groups`` value is a group key after :func:`group_key_text` (strings as they are,
  integers in decimal, integral floats without a fraction, booleans ``true``/``false``); ``None``
  and ``""`` mean "no group".
* **Updates** (``$groupidentify`` with a type and a non-empty key) apply in
  ``(timestamp, source_name, source_row, uuid)`` order; version *n* of a group is the fold of its
  first *n* updates (``merge``: ``dict.update``; ``overwrite``: the update's own set) and is valid
  from its timestamp (inclusive) to the next version's (exclusive).
* **As of an event**: the last version whose ``valid_from`` is at or before the event's timestamp.
* **Deletion**: a deleted group's ``$groupidentify`` events disappear; events that carry it lose
  that ``$groups`` entry (``detach``) or disappear (``remove``). Type indices are computed before
  deletions, so they never move.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gw.config import ProjectsConfig
from gw.generator import GeneratedSample, TruthEvent

from .oracle import group_type_mapping

__all__ = [
    "GroupRow",
    "PropertyVersion",
    "group_daily_activity",
    "group_daily_event_counts",
    "group_key_text",
    "group_persons",
    "group_property_history",
    "groups_dimension",
    "groups_list",
    "properties_as_of_events",
    "related_groups",
    "without_deleted_groups",
]

Mode = Literal["merge", "overwrite"]
GroupId = tuple[int, str, str]
"""``(project_id, group_type, group_key)``."""


@dataclass(frozen=True)
class PropertyVersion:
    """One row of a group's SCD2 property history."""

    version: int
    properties: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None
    update_uuid: str

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


@dataclass(frozen=True)
class GroupRow:
    """What ``dim_groups`` must say about one group."""

    group_type: str
    display_name: str
    properties: dict[str, Any]
    has_properties: bool
    is_identified: bool
    created_at: datetime
    first_event_at: datetime | None
    last_event_at: datetime | None
    event_count: int
    properties_updated_at: datetime | None


def group_key_text(value: Any) -> str | None:
    """A ``$groups`` value as the group key the warehouse stores (``None``: no group)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value or None
    return json.dumps(value, separators=(",", ":"))


def _event_groups(event: TruthEvent) -> Iterator[tuple[str, str]]:
    for group_type, value in event.groups.items():
        key = group_key_text(value)
        if key is not None:
            yield group_type, key


def _identified(event: TruthEvent) -> GroupId | None:
    if event.event != "$groupidentify" or not event.group_type:
        return None
    key = "" if event.group_key is None else str(event.group_key)
    return (event.project_id, event.group_type, key) if key else None


def _apply_order(event: TruthEvent) -> tuple[datetime, str, int, str]:
    return (event.timestamp, event.source_name, event.source_row, event.uuid)


def without_deleted_groups(
    sample: GeneratedSample,
    deleted: Iterable[GroupId],
    events_policy: Literal["detach", "remove"] = "detach",
) -> GeneratedSample:
    """The sample as the warehouse keeps it after the deletion requests for ``deleted``."""
    gone = set(deleted)
    kept: list[TruthEvent] = []
    for event in sample.events:
        if _identified(event) in gone:
            continue
        hits = {t for t, k in _event_groups(event) if (event.project_id, t, k) in gone}
        if hits and events_policy == "remove":
            continue
        if hits:
            event = replace(event, groups={t: v for t, v in event.groups.items() if t not in hits})
        kept.append(event)
    return replace(sample, events=kept)


def group_property_history(
    sample: GeneratedSample, mode: Mode = "merge"
) -> dict[GroupId, list[PropertyVersion]]:
    """Every identified group's property versions (all types, indexed or not)."""
    updates: dict[GroupId, list[TruthEvent]] = defaultdict(list)
    for event in sample.events:
        group = _identified(event)
        if group is not None:
            updates[group].append(event)
    history: dict[GroupId, list[PropertyVersion]] = {}
    for group, events in updates.items():
        events.sort(key=_apply_order)
        properties: dict[str, Any] = {}
        versions = []
        for number, event in enumerate(events, start=1):
            sent = dict(event.group_set or {})
            properties = sent if mode == "overwrite" else {**properties, **sent}
            following = events[number] if number < len(events) else None
            versions.append(
                PropertyVersion(
                    version=number,
                    properties=dict(properties),
                    valid_from=event.timestamp,
                    valid_to=following.timestamp if following is not None else None,
                    update_uuid=event.uuid,
                )
            )
        history[group] = versions
    return history


def _display_name(properties: dict[str, Any], key: str) -> str:
    name = properties.get("name")
    if name is None:
        return key
    return name if isinstance(name, str) else json.dumps(name, separators=(",", ":"))


def groups_dimension(
    sample: GeneratedSample,
    mode: Mode = "merge",
    mapping: dict[tuple[int, str], int] | None = None,
) -> dict[tuple[int, int, str], GroupRow]:
    """``(project_id, group_type_index, group_key)`` → the group's ``dim_groups`` row.

    ``mapping`` defaults to the sample's own type mapping; pass the mapping of the sample before
    deletions when ``sample`` comes from :func:`without_deleted_groups`.
    """
    mapping = group_type_mapping(sample) if mapping is None else mapping
    history = group_property_history(sample, mode)
    events_of: dict[GroupId, list[datetime]] = defaultdict(list)
    identified_at: dict[GroupId, datetime] = {}
    for event in sample.events:
        for group_type, key in _event_groups(event):
            events_of[(event.project_id, group_type, key)].append(event.timestamp)
        group = _identified(event)
        if group is not None:
            identified_at[group] = min(identified_at.get(group, event.timestamp), event.timestamp)
    rows: dict[tuple[int, int, str], GroupRow] = {}
    for group in set(events_of) | set(identified_at):
        project_id, group_type, key = group
        index = mapping.get((project_id, group_type))
        if index is None:
            continue
        versions = history.get(group, [])
        properties = versions[-1].properties if versions else {}
        times = events_of.get(group, [])
        sightings = [*times, *([identified_at[group]] if group in identified_at else [])]
        rows[(project_id, index, key)] = GroupRow(
            group_type=group_type,
            display_name=_display_name(properties, key),
            properties=properties,
            has_properties=bool(properties),
            is_identified=group in identified_at,
            created_at=min(sightings),
            first_event_at=min(times) if times else None,
            last_event_at=max(times) if times else None,
            event_count=len(times),
            properties_updated_at=versions[-1].valid_from if versions else None,
        )
    return rows


def groups_list(rows: dict[tuple[int, int, str], GroupRow]) -> set[tuple[int, int, str]]:
    """PostHog's groups list: the groups of :func:`groups_dimension` that have properties."""
    return {group for group, row in rows.items() if row.has_properties}


def properties_as_of_events(
    sample: GeneratedSample, mode: Mode = "merge", mapping: dict[tuple[int, str], int] | None = None
) -> dict[tuple[int, str, int], tuple[int | None, dict[str, Any]]]:
    """``(project_id, event_uuid, group_type_index)`` → (version, properties) valid at the event."""
    mapping = group_type_mapping(sample) if mapping is None else mapping
    history = group_property_history(sample, mode)
    answer: dict[tuple[int, str, int], tuple[int | None, dict[str, Any]]] = {}
    for event in sample.events:
        for group_type, key in _event_groups(event):
            index = mapping.get((event.project_id, group_type))
            if index is None:
                continue
            versions = history.get((event.project_id, group_type, key), [])
            starts = [version.valid_from for version in versions]
            position = bisect.bisect_right(starts, event.timestamp)
            found = versions[position - 1] if position else None
            answer[(event.project_id, event.uuid, index)] = (
                (found.version, found.properties) if found else (None, {})
            )
    return answer


def _attached(
    sample: GeneratedSample, mapping: dict[tuple[int, str], int]
) -> Iterator[tuple[TruthEvent, int, str]]:
    for event in sample.events:
        for group_type, key in _event_groups(event):
            index = mapping.get((event.project_id, group_type))
            if index is not None:
                yield event, index, key


def group_persons(
    sample: GeneratedSample,
    person_of: Callable[[TruthEvent], str | None],
    mapping: dict[tuple[int, str], int] | None = None,
) -> dict[tuple[int, int, str, str], tuple[datetime, datetime, int]]:
    """Related people: ``(project, index, key, person_id)`` → (first seen, last seen, events)."""
    mapping = group_type_mapping(sample) if mapping is None else mapping
    seen: dict[tuple[int, int, str, str], list[datetime]] = defaultdict(list)
    for event, index, key in _attached(sample, mapping):
        person = person_of(event)
        if person is not None:
            seen[(event.project_id, index, key, person)].append(event.timestamp)
    return {k: (min(v), max(v), len(v)) for k, v in seen.items()}


def related_groups(
    sample: GeneratedSample, mapping: dict[tuple[int, str], int] | None = None
) -> dict[tuple[int, int, str, int, str], int]:
    """Related groups: ``(project, index, key, other index, other key)`` → shared events."""
    mapping = group_type_mapping(sample) if mapping is None else mapping
    by_event: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    for event, index, key in _attached(sample, mapping):
        by_event[(event.project_id, event.uuid)].append((index, key))
    shared: dict[tuple[int, int, str, int, str], int] = defaultdict(int)
    for (project_id, _), groups in by_event.items():
        for index, key in groups:
            for other_index, other_key in groups:
                if other_index != index:
                    shared[(project_id, index, key, other_index, other_key)] += 1
    return dict(shared)


def group_daily_activity(
    sample: GeneratedSample,
    projects: ProjectsConfig,
    person_of: Callable[[TruthEvent], str | None],
    mapping: dict[tuple[int, str], int] | None = None,
) -> dict[tuple[int, int, str, date], tuple[int, int]]:
    """``(project, index, key, local day)`` → (events, distinct persons) for active days."""
    mapping = group_type_mapping(sample) if mapping is None else mapping
    zones = {project.id: ZoneInfo(project.timezone) for project in projects.projects}
    events: dict[tuple[int, int, str, date], int] = defaultdict(int)
    persons: dict[tuple[int, int, str, date], set[str]] = defaultdict(set)
    for event, index, key in _attached(sample, mapping):
        day = event.timestamp.astimezone(zones[event.project_id]).date()
        events[(event.project_id, index, key, day)] += 1
        person = person_of(event)
        if person is not None:
            persons[(event.project_id, index, key, day)].add(person)
    return {k: (n, len(persons.get(k, ()))) for k, n in events.items()}


def group_daily_event_counts(
    sample: GeneratedSample, projects: ProjectsConfig, mapping: dict[tuple[int, str], int] | None = None
) -> dict[tuple[int, int, str, date, str], int]:
    """``(project, index, key, local day, event name)`` → events."""
    mapping = group_type_mapping(sample) if mapping is None else mapping
    zones = {project.id: ZoneInfo(project.timezone) for project in projects.projects}
    counts: dict[tuple[int, int, str, date, str], int] = defaultdict(int)
    for event, index, key in _attached(sample, mapping):
        day = event.timestamp.astimezone(zones[event.project_id]).date()
        counts[(event.project_id, index, key, day, event.event)] += 1
    return dict(counts)
