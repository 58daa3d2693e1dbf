"""Independent, plain-Python answers to the questions the marts answer.

The oracle reads only the generator's truth (:attr:`gw.generator.GeneratedSample.events`) and a
:class:`gw.config.ProjectsConfig`; it never looks at the lake or the warehouse.  The code is kept
deliberately simple (loops and dicts, no SQL) so that it is easy to check by reading, and the dbt
marts are compared with it.

Semantics (see DESIGN.md, "Group semantics to match"):

* **Landing order** is ``(source_name, source_row)``.
* **Group type mapping**: per project, group types get indices 0–4 in order of first sighting in
  landing order, lowest free index first; a sixth type gets none.  A type is sighted when it
  appears in an event's ``$groups`` with a non-empty key, or as ``$group_type`` of a
  ``$groupidentify``.  Within one event ``$groups`` entries count in the order they were sent,
  then the ``$group_type``.
* **Empty keys** (``""``) mean "no group" and never count.
* **Group activity** comes from ``$groups`` only, not from ``$groupidentify`` payloads.
* **Group properties** fold the ``$group_set`` of each ``$groupidentify`` in order of
  ``(timestamp, source_name, source_row, uuid)``: ``merge`` keeps keys the update does not send,
  ``overwrite`` replaces the whole set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gw.config import ProjectsConfig
from gw.generator import GeneratedSample, TruthEvent

#: At most this many group types per project (indices 0–4).
MAX_GROUP_TYPES = 5

__all__ = [
    "MAX_GROUP_TYPES",
    "current_group_properties",
    "daily_active_groups",
    "events_per_group",
    "group_type_mapping",
    "known_groups",
    "landing_order",
]


def landing_order(sample: GeneratedSample) -> list[TruthEvent]:
    """The sample's events sorted by ``(source_name, source_row)``."""
    return sorted(sample.events, key=lambda e: (e.source_name, e.source_row))


def _group_pairs(event: TruthEvent) -> Iterator[tuple[str, str]]:
    """``(group_type, group_key)`` of the event's ``$groups``, empty keys left out."""
    for group_type, group_key in event.groups.items():
        if group_key is None:
            continue
        key = str(group_key)
        if key != "":
            yield group_type, key


def _identified_group(event: TruthEvent) -> tuple[str, str] | None:
    """``(group_type, group_key)`` a ``$groupidentify`` describes, or ``None``."""
    if event.event != "$groupidentify" or not event.group_type:
        return None
    if event.group_key is None or str(event.group_key) == "":
        return None
    return event.group_type, str(event.group_key)


def group_type_mapping(sample: GeneratedSample) -> dict[tuple[int, str], int]:
    """``(project_id, group_type)`` → index 0–4, in order of first sighting in landing order.

    Sightings are the ``$groups`` types with a non-empty key and the ``$group_type`` of
    ``$groupidentify`` events.  At most :data:`MAX_GROUP_TYPES` per project; later types get no
    index (they are absent from the result).
    """
    mapping: dict[tuple[int, str], int] = {}
    used: dict[int, int] = defaultdict(int)
    for event in landing_order(sample):
        sighted = [group_type for group_type, _ in _group_pairs(event)]
        if event.event == "$groupidentify" and event.group_type:
            sighted.append(event.group_type)
        for group_type in sighted:
            key = (event.project_id, group_type)
            if key in mapping or used[event.project_id] >= MAX_GROUP_TYPES:
                continue
            mapping[key] = used[event.project_id]
            used[event.project_id] += 1
    return mapping


def _indexed_groups(
    events: Iterable[TruthEvent], mapping: dict[tuple[int, str], int]
) -> Iterator[tuple[TruthEvent, int, str]]:
    """``(event, group_type_index, group_key)`` for every group attached to an event."""
    for event in events:
        for group_type, group_key in _group_pairs(event):
            index = mapping.get((event.project_id, group_type))
            if index is not None:
                yield event, index, group_key


def daily_active_groups(
    sample: GeneratedSample, projects: ProjectsConfig
) -> dict[tuple[int, int, date], int]:
    """``(project_id, group_type_index, local date)`` → distinct non-empty group keys active.

    The date is the event's day in its project's time zone (``projects.yml``).  Only types with
    an index count, only ``$groups`` (not ``$groupidentify`` payloads), only non-zero counts.
    """
    zones = {project.id: ZoneInfo(project.timezone) for project in projects.projects}
    mapping = group_type_mapping(sample)
    keys: dict[tuple[int, int, date], set[str]] = defaultdict(set)
    for event, index, group_key in _indexed_groups(sample.events, mapping):
        local_day = event.timestamp.astimezone(zones[event.project_id]).date()
        keys[(event.project_id, index, local_day)].add(group_key)
    return {day: len(members) for day, members in keys.items() if members}


def events_per_group(sample: GeneratedSample) -> dict[tuple[int, int, str], int]:
    """``(project_id, group_type_index, group_key)`` → number of events attributed to the group."""
    mapping = group_type_mapping(sample)
    counts: dict[tuple[int, int, str], int] = defaultdict(int)
    for event, index, group_key in _indexed_groups(sample.events, mapping):
        counts[(event.project_id, index, group_key)] += 1
    return dict(counts)


def current_group_properties(
    sample: GeneratedSample, mode: Literal["merge", "overwrite"] = "merge"
) -> dict[tuple[int, str, str], dict[str, Any]]:
    """``(project_id, group_type, group_key)`` → properties after every ``$groupidentify``.

    Updates apply in ``(timestamp, source_name, source_row, uuid)`` order.  ``merge``: keys sent
    overwrite, other keys stay (``dict.update``).  ``overwrite``: each update replaces all
    properties.  Groups of every type are returned (also types without an index); a missing
    ``$group_set`` counts as ``{}``.
    """
    if mode not in ("merge", "overwrite"):
        raise ValueError(f"mode must be 'merge' or 'overwrite', not {mode!r}")
    updates = [event for event in sample.events if _identified_group(event) is not None]
    updates.sort(key=lambda e: (e.timestamp, e.source_name, e.source_row, e.uuid))
    properties: dict[tuple[int, str, str], dict[str, Any]] = {}
    for event in updates:
        group_type, group_key = _identified_group(event) or ("", "")
        key = (event.project_id, group_type, group_key)
        group_set = dict(event.group_set or {})
        if mode == "overwrite" or key not in properties:
            properties[key] = group_set
        else:
            properties[key].update(group_set)
    return properties


def known_groups(sample: GeneratedSample) -> set[tuple[int, int, str]]:
    """Every group ``(project_id, group_type_index, group_key)`` seen on events or identified.

    Identified groups of a type without an index, and empty keys, are left out.
    """
    mapping = group_type_mapping(sample)
    groups = {(event.project_id, index, key) for event, index, key in _indexed_groups(sample.events, mapping)}
    for event in sample.events:
        identified = _identified_group(event)
        if identified is None:
            continue
        index = mapping.get((event.project_id, identified[0]))
        if index is not None:
            groups.add((event.project_id, index, identified[1]))
    return groups
