"""Independent answers about persons: identity resolution, person ids and properties.

Plain Python over :class:`gw.generator.TruthEvent` lists, written from the rules in
``docs/persons.md``:

* **Group-only distinct ids** never belong to a person: the configured static ids (default
  :data:`gw.generator.GROUP_ONLY_DISTINCT_ID`) and the ``$<group_type>_<group_key>`` id the server
  SDKs send a ``$groupidentify`` with.
* **Links**: ``$identify`` joins its distinct id and ``$anon_distinct_id``; ``$create_alias`` and
  ``$merge_dangerously`` join their distinct id and ``alias``. Empty and self links, and links
  touching a group-only id, are ignored. Persons are the connected components (a union-find here).
* **Person id**: md5 of ``"<project_id>:<smallest distinct id of the component>"`` written as a
  uuid (8-4-4-4-12).
* **Properties**: events of all the person's distinct ids in ``(timestamp, source_name,
  source_row, uuid)`` order; per event, ``$set_once`` keys that are still unset are set, then
  ``$set`` keys are set.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gw.generator import GROUP_ONLY_DISTINCT_ID, GeneratedSample, TruthEvent

__all__ = [
    "PersonRow",
    "group_only_distinct_ids",
    "person_distinct_ids",
    "person_id_for",
    "persons_dimension",
]

#: The events whose ``properties`` name another distinct id of the same person, and where.
LINK_PROPERTIES = {"$identify": "$anon_distinct_id", "$create_alias": "alias", "$merge_dangerously": "alias"}


@dataclass(frozen=True)
class PersonRow:
    """What ``dim_persons`` must say about one person."""

    canonical_distinct_id: str
    properties: dict[str, Any]
    is_identified: bool
    created_at: datetime
    last_seen_at: datetime
    distinct_id_count: int
    event_count: int


def person_id_for(project_id: int, canonical_distinct_id: str) -> str:
    """The deterministic person id of a component whose smallest distinct id is given."""
    digest = hashlib.md5(f"{project_id}:{canonical_distinct_id}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def group_only_distinct_ids(
    sample: GeneratedSample, configured: Iterable[str] = (GROUP_ONLY_DISTINCT_ID,)
) -> set[tuple[int, str]]:
    """``(project_id, distinct_id)`` pairs that count for groups but never as a person."""
    static = set(configured)
    projects = {event.project_id for event in sample.events}
    found = {(project_id, distinct_id) for project_id in projects for distinct_id in static}
    for event in sample.events:
        if event.event != "$groupidentify" or not event.group_type or not event.group_key:
            continue
        if event.distinct_id == f"${event.group_type}_{event.group_key}":
            found.add((event.project_id, event.distinct_id))
    return found


def _links(sample: GeneratedSample, group_only: set[tuple[int, str]]) -> list[tuple[int, str, str]]:
    links = []
    for event in sample.events:
        prop = LINK_PROPERTIES.get(event.event)
        if prop is None:
            continue
        other = event.properties.get(prop)
        if other is None:
            continue
        other = str(other)
        if other in ("", event.distinct_id):
            continue
        if (event.project_id, event.distinct_id) in group_only or (event.project_id, other) in group_only:
            continue
        links.append((event.project_id, event.distinct_id, other))
    return links


def person_distinct_ids(
    sample: GeneratedSample, configured: Iterable[str] = (GROUP_ONLY_DISTINCT_ID,)
) -> dict[tuple[int, str], str]:
    """``(project_id, distinct_id)`` → person id, for every distinct id that belongs to a person."""
    group_only = group_only_distinct_ids(sample, configured)
    parent: dict[tuple[int, str], tuple[int, str]] = {}

    def find(node: tuple[int, str]) -> tuple[int, str]:
        parent.setdefault(node, node)
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def union(a: tuple[int, str], b: tuple[int, str]) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)  # the smaller id stays the root

    for event in sample.events:
        if (event.project_id, event.distinct_id) not in group_only:
            find((event.project_id, event.distinct_id))
    for project_id, one, other in _links(sample, group_only):
        union((project_id, one), (project_id, other))
    return {node: person_id_for(node[0], find(node)[1]) for node in list(parent)}


def _apply_order(event: TruthEvent) -> tuple[datetime, str, int, str]:
    return (event.timestamp, event.source_name, event.source_row, event.uuid)


def persons_dimension(
    sample: GeneratedSample, configured: Iterable[str] = (GROUP_ONLY_DISTINCT_ID,)
) -> dict[tuple[int, str], PersonRow]:
    """``(project_id, person_id)`` → the person's ``dim_persons`` row."""
    configured = tuple(configured)
    persons = person_distinct_ids(sample, configured)
    group_only = group_only_distinct_ids(sample, configured)
    linked = {
        (project_id, distinct_id)
        for project_id, one, other in _links(sample, group_only)
        for distinct_id in (one, other)
    }
    members: dict[tuple[int, str], list[str]] = defaultdict(list)
    for (project_id, distinct_id), person_id in persons.items():
        members[(project_id, person_id)].append(distinct_id)
    properties: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for event in sorted(sample.events, key=_apply_order):
        found = persons.get((event.project_id, event.distinct_id))
        if found is None:
            continue
        person = (event.project_id, found)
        times[person].append(event.timestamp)
        current = properties[person]
        for key, value in (event.person_set_once or {}).items():
            current.setdefault(key, value)
        current.update(event.person_set or {})
    return {
        person: PersonRow(
            canonical_distinct_id=min(distinct_ids),
            properties=dict(properties.get(person, {})),
            is_identified=any((person[0], d) in linked for d in distinct_ids),
            created_at=min(times[person]),
            last_seen_at=max(times[person]),
            distinct_id_count=len(distinct_ids),
            event_count=len(times[person]),
        )
        for person, distinct_ids in members.items()
    }
