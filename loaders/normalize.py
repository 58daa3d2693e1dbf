"""Turn decoded JSON values into rows of the lake's ``events`` table, or quarantine them.

This is the one place where Python touches every event, so it is written as one tight loop over
plain dicts with msgspec for serialisation (:mod:`loaders.jsonio`) (see ``docs/contracts.md`` for the columns).

Rules, in the order they are applied to an event:

* not an object → ``not_an_object``; ``event`` missing/empty → ``missing_event``; ``event`` not a
  string → ``wrong_type``; ``properties`` neither an object nor absent (a JSON *string* holding an
  object is accepted, as batch exports write it) → ``wrong_type``;
* ``distinct_id`` from the top level, else ``properties.distinct_id``; numbers are stringified;
  missing/empty → ``missing_distinct_id``; anything else → ``wrong_type``; longer than 200
  characters → cut to 200 (as PostHog's capture does);
* the project: the body's ``api_key``/``token``, else the ``Authorization: Bearer`` token, else the
  event's own ``api_key``/``token``, else ``properties.token`` (posthog-js), else — for export
  rows — ``team_id``/``project_id`` equal to a configured project id; none or unknown →
  ``unknown_project``;
* ``uuid`` as sent (lower-cased, any form :class:`uuid.UUID` reads, canonicalised); not a UUID →
  ``wrong_type``; missing → ``uuid5`` of the project id and the event's canonical JSON (sorted
  keys), so re-sent copies get the same id;
* ``timestamp`` with PostHog's clock-skew rule (see the loop);
* ``$groups``, ``$set``, ``$set_once`` from the top level or ``properties``; ``$group_type``,
  ``$group_key``, ``$group_set`` of ``$groupidentify``;
* properties larger than 1 MiB or nested deeper than 64 levels → ``oversized``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gw.config import ProjectsConfig
from loaders import jsonio
from loaders.decode import MAX_EVENT_BYTES, BodyContext, Broken, Segment, parse_sent_at
from loaders.reasons import Reason

#: Events this far in the future of ``received_at`` are clamped to ``received_at`` (PostHog).
FUTURE_LIMIT = timedelta(hours=23)
#: Deepest nesting of ``properties`` accepted.
MAX_DEPTH = 64
#: Longest ``distinct_id`` kept (PostHog's capture cuts longer ones).
MAX_DISTINCT_ID_CHARS = 200
#: At most this much of a quarantined event's raw text is kept.
RAW_LIMIT = 64 * 1024

#: Namespace of the uuid5 given to events sent without a uuid.
EVENT_UUID_NAMESPACE = uuid.UUID("6f0c2f4e-4b1a-5d2e-9c77-1f3a8e0d2b55")

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMPTY_OBJECT = b"{}"
_MIN_EPOCH_SECONDS = -62135596800.0  # 0001-01-01T00:00:00Z


class ProjectResolver:
    """Api keys and project ids → project id, from projects.yml."""

    def __init__(self, projects: ProjectsConfig) -> None:
        self.by_key: dict[str, int] = {key: p.id for p in projects.projects for key in p.api_keys}
        self.ids: frozenset[int] = frozenset(p.id for p in projects.projects)

    def by_id(self, value: Any) -> int | None:
        """A configured project id given as an int or a numeric string, else ``None``."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and value in self.ids:
            return value
        return None


@dataclass
class EventRows:
    """Column lists of landed events (``event_date`` is derived from ``timestamp`` in bulk)."""

    event_uuid: list[str] = field(default_factory=list)
    event: list[str] = field(default_factory=list)
    distinct_id: list[str] = field(default_factory=list)
    timestamp: list[float] = field(default_factory=list)
    """Seconds since the Unix epoch (UTC); turned into µs timestamps in bulk."""
    sent_at: list[float | None] = field(default_factory=list)
    """Seconds since the Unix epoch (UTC)."""
    properties: list[bytes] = field(default_factory=list)
    groups: list[bytes] = field(default_factory=list)
    person_set: list[bytes | None] = field(default_factory=list)
    person_set_once: list[bytes | None] = field(default_factory=list)
    group_type: list[str | None] = field(default_factory=list)
    group_key: list[str | None] = field(default_factory=list)
    group_set: list[bytes | None] = field(default_factory=list)
    source_row: list[int] = field(default_factory=list)
    project_id: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.event_uuid)


@dataclass
class QuarantineRows:
    """Quarantined events of one file."""

    source_row: list[int | None] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def add(self, row: int | None, reason: Reason, detail: str, raw: str) -> None:
        self.source_row.append(row)
        self.reason.append(reason.value)
        self.detail.append(detail)
        self.raw.append(raw[:RAW_LIMIT])

    def __len__(self) -> int:
        return len(self.reason)


# --------------------------------------------------------------------------------------------
# helpers (the hot loop inlines the common paths and calls these for the rest)


def raw_text(value: Any) -> str:
    """The text kept in quarantine for a value."""
    if isinstance(value, Broken):
        return value.raw[:RAW_LIMIT].decode("utf-8", "replace")
    try:
        return jsonio.dumps_safe(value)[:RAW_LIMIT].decode("utf-8", "replace")
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:RAW_LIMIT]


def json_scalar_text(value: Any) -> str | None:
    """A group key / distinct id as text: strings as is, integers in decimal, integral floats
    without a fraction (``5.0`` → ``"5"``, as JavaScript prints it), booleans ``true``/``false``,
    other values as JSON text; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    return jsonio.dumps_sorted(value).decode()


def normalise_groups(groups: dict[Any, Any]) -> dict[str, str]:
    """``$groups`` with string keys and string values; ``null`` values mean "no group"."""
    out: dict[str, str] = {}
    for group_type, group_key in groups.items():
        text = json_scalar_text(group_key)
        if text is not None:
            out[str(group_type)] = text
    return out


def depth_of(value: Any) -> int:
    """Nesting depth of objects and lists (a scalar is 0, ``{}`` is 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Iterable[Any] = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


# --------------------------------------------------------------------------------------------
# the loop


def normalise_segment(
    segment: Segment,
    *,
    first_row: int,
    received_at: datetime,
    resolver: ProjectResolver,
    rows: EventRows,
    quarantine: QuarantineRows,
) -> int:
    """Normalise the items of ``segment`` into ``rows`` / ``quarantine``; returns the next row
    index.  Timestamps in ``rows`` are naive UTC."""
    context: BodyContext = segment.context
    body_project: int | None = None
    body_key = context.api_key
    if body_key is not None:
        body_project = resolver.by_key.get(body_key)
    # Timestamps are handled as float epoch seconds: ``datetime.timestamp()`` is several times
    # cheaper than datetime arithmetic, and doubles hold µs exactly for years 1685–2255.
    body_sent_at = context.sent_at.timestamp() if context.sent_at is not None else None
    received = received_at.timestamp()
    future_limit = received + FUTURE_LIMIT.total_seconds()
    by_key = resolver.by_key
    loads = jsonio.loads
    dumps = jsonio.dumps
    dumps_safe = jsonio.dumps_safe
    fromisoformat = datetime.fromisoformat
    uuid_match = _UUID_RE.fullmatch

    add_uuid = rows.event_uuid.append
    add_event = rows.event.append
    add_distinct = rows.distinct_id.append
    add_timestamp = rows.timestamp.append
    add_sent_at = rows.sent_at.append
    add_properties = rows.properties.append
    add_groups = rows.groups.append
    add_set = rows.person_set.append
    add_set_once = rows.person_set_once.append
    add_group_type = rows.group_type.append
    add_group_key = rows.group_key.append
    add_group_set = rows.group_set.append
    add_row = rows.source_row.append
    add_project = rows.project_id.append
    reject: Callable[[int | None, Reason, str, str], None] = quarantine.add

    row = first_row - 1
    for item in segment.items:
        row += 1
        if type(item) is not dict:
            if isinstance(item, Broken):
                reject(row, item.reason, item.detail, raw_text(item))
            else:
                reject(
                    row, Reason.NOT_AN_OBJECT, f"the event is a JSON {type(item).__name__}", raw_text(item)
                )
            continue

        # --- event name ---------------------------------------------------------------------
        event = item.get("event")
        if type(event) is not str:
            if event is None:
                reject(row, Reason.MISSING_EVENT, "no `event`", raw_text(item))
            else:
                reject(row, Reason.WRONG_TYPE, f"`event` is a {type(event).__name__}", raw_text(item))
            continue
        if not event:
            reject(row, Reason.MISSING_EVENT, "`event` is empty", raw_text(item))
            continue

        # --- properties ---------------------------------------------------------------------
        properties = item.get("properties")
        if properties is None:
            properties = {}
        elif type(properties) is not dict:
            if isinstance(properties, str):  # batch exports may write properties as JSON text
                try:
                    properties = loads(properties)
                except jsonio.DECODE_ERRORS:
                    properties = None
            elif isinstance(properties, list) and all(type(p) is tuple and len(p) == 2 for p in properties):
                properties = dict(properties)  # a Parquet map column
            if type(properties) is not dict:
                reject(row, Reason.WRONG_TYPE, "`properties` is not a JSON object", raw_text(item))
                continue

        # --- distinct id --------------------------------------------------------------------
        distinct_id = item.get("distinct_id")
        if distinct_id is None or distinct_id == "":
            distinct_id = properties.get("distinct_id")
        if type(distinct_id) is not str:
            if distinct_id is None:
                reject(row, Reason.MISSING_DISTINCT_ID, "no `distinct_id`", raw_text(item))
                continue
            if isinstance(distinct_id, int | float) and not isinstance(distinct_id, bool):
                distinct_id = json_scalar_text(distinct_id)
            else:
                reject(
                    row, Reason.WRONG_TYPE, f"`distinct_id` is a {type(distinct_id).__name__}", raw_text(item)
                )
                continue
        if not distinct_id:
            reject(row, Reason.MISSING_DISTINCT_ID, "`distinct_id` is empty", raw_text(item))
            continue
        if len(distinct_id) > MAX_DISTINCT_ID_CHARS:
            distinct_id = distinct_id[:MAX_DISTINCT_ID_CHARS]

        # --- project ------------------------------------------------------------------------
        project_id = body_project
        if project_id is None:
            if body_key is not None:
                reject(row, Reason.UNKNOWN_PROJECT, f"unknown api key {body_key[:40]!r}", raw_text(item))
                continue
            key = item.get("api_key") or item.get("token") or properties.get("token")
            if type(key) is str and key:
                project_id = by_key.get(key.strip())
                if project_id is None:
                    reject(row, Reason.UNKNOWN_PROJECT, f"unknown api key {key[:40]!r}", raw_text(item))
                    continue
            else:
                team = item.get("team_id")
                if team is None:
                    team = item.get("project_id")
                project_id = resolver.by_id(team) if team is not None else None
                if project_id is None:
                    detail = (
                        "no api_key, token or Bearer header"
                        if team is None
                        else f"unknown project id {team!r:.40}"
                    )
                    reject(row, Reason.UNKNOWN_PROJECT, detail, raw_text(item))
                    continue

        # --- timestamp (naive UTC from here on) --------------------------------------------
        # PostHog's rule: timestamp and sent_at → received_at + (timestamp − sent_at);
        # timestamp only → as sent; no timestamp → received_at − offset (ms), else received_at;
        # more than 23 h after received_at → received_at.
        raw_ts = item.get("timestamp")
        sent_at = body_sent_at
        if sent_at is None and "sent_at" in item:
            event_sent_at = parse_sent_at(item["sent_at"])
            if event_sent_at is not None:
                sent_at = event_sent_at.timestamp()
        try:
            if raw_ts is None or raw_ts == "":
                offset = item.get("offset")
                timestamp = received - offset / 1000 if offset and type(offset) in (int, float) else received
            else:
                if type(raw_ts) is str:
                    try:
                        parsed = fromisoformat(raw_ts)
                    except ValueError:
                        reject(
                            row,
                            Reason.INVALID_TIMESTAMP,
                            f"timestamp {raw_ts[:60]!r} is not ISO-8601",
                            raw_text(item),
                        )
                        continue
                elif isinstance(raw_ts, datetime):
                    parsed = raw_ts
                else:
                    reject(
                        row,
                        Reason.INVALID_TIMESTAMP,
                        f"timestamp is a {type(raw_ts).__name__}",
                        raw_text(item),
                    )
                    continue
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                if sent_at is not None and not properties.get("$ignore_sent_at"):
                    timestamp = received + (parsed.timestamp() - sent_at)
                else:
                    timestamp = parsed.timestamp()
            if timestamp > future_limit:
                timestamp = received
            elif timestamp < _MIN_EPOCH_SECONDS:
                reject(row, Reason.INVALID_TIMESTAMP, "timestamp before year 1", raw_text(item))
                continue
        except (OverflowError, ValueError):
            reject(row, Reason.INVALID_TIMESTAMP, f"timestamp {raw_ts!r:.60} is out of range", raw_text(item))
            continue

        # --- uuid ---------------------------------------------------------------------------
        event_uuid = item.get("uuid")
        if type(event_uuid) is str and uuid_match(event_uuid):
            pass
        elif event_uuid is None or event_uuid == "":
            content = jsonio.dumps_sorted(item)
            event_uuid = str(uuid.uuid5(EVENT_UUID_NAMESPACE, f"{project_id}\n{content.decode()}"))
        else:
            try:
                if isinstance(event_uuid, bytes) and len(event_uuid) == 16:
                    event_uuid = str(uuid.UUID(bytes=event_uuid))
                elif isinstance(event_uuid, str | uuid.UUID):
                    event_uuid = str(uuid.UUID(str(event_uuid)))
                else:
                    raise ValueError
            except ValueError:
                reject(row, Reason.WRONG_TYPE, f"uuid {event_uuid!r:.60} is not a UUID", raw_text(item))
                continue

        # --- properties text, size and depth ------------------------------------------------
        try:
            properties_json = dumps(properties)
        except (TypeError, ValueError, OverflowError, RecursionError):
            if depth_of(properties) > MAX_DEPTH:
                reject(row, Reason.OVERSIZED, f"properties nested deeper than {MAX_DEPTH}", raw_text(item))
                continue
            properties_json = dumps_safe(properties)
        if len(properties_json) > MAX_EVENT_BYTES:
            reject(row, Reason.OVERSIZED, f"properties of {len(properties_json)} bytes", raw_text(item))
            continue
        if (
            properties_json.count(b"{") + properties_json.count(b"[") > MAX_DEPTH
            and depth_of(properties) > MAX_DEPTH
        ):
            reject(row, Reason.OVERSIZED, f"properties nested deeper than {MAX_DEPTH}", raw_text(item))
            continue

        # --- groups and person properties ---------------------------------------------------
        groups = item.get("$groups")
        if groups is None:
            groups = properties.get("$groups")
        if type(groups) is dict and groups:
            for value in groups.values():
                if type(value) is not str:
                    groups = normalise_groups(groups)
                    break
            groups_json = dumps_safe(groups)
        else:
            groups_json = _EMPTY_OBJECT

        person_set = item.get("$set")
        inner = properties.get("$set")
        if type(person_set) is dict:
            if type(inner) is dict:
                person_set = {**inner, **person_set}
        elif type(inner) is dict:
            person_set = inner
        else:
            person_set = None
        person_set_once = item.get("$set_once")
        inner = properties.get("$set_once")
        if type(person_set_once) is dict:
            if type(inner) is dict:
                person_set_once = {**inner, **person_set_once}
        elif type(inner) is dict:
            person_set_once = inner
        else:
            person_set_once = None
        if person_set is None and person_set_once is None and "team_id" in item:
            # batch-export rows carry `set` / `set_once` columns
            person_set = _export_object(item.get("set"))
            person_set_once = _export_object(item.get("set_once"))

        if event == "$groupidentify":
            group_type = properties.get("$group_type")
            add_group_type(group_type if type(group_type) is str else None)
            add_group_key(json_scalar_text(properties.get("$group_key")))
            group_set = properties.get("$group_set")
            add_group_set(dumps_safe(group_set) if type(group_set) is dict else None)
        else:
            add_group_type(None)
            add_group_key(None)
            add_group_set(None)

        add_uuid(event_uuid.lower())
        add_event(event)
        add_distinct(distinct_id)
        add_timestamp(timestamp)
        add_sent_at(sent_at)
        add_properties(properties_json)
        add_groups(groups_json)
        add_set(dumps_safe(person_set) if person_set is not None else None)
        add_set_once(dumps_safe(person_set_once) if person_set_once is not None else None)
        add_row(row)
        add_project(project_id)
    return row + 1


def _export_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value:
        try:
            value = jsonio.loads(value)
        except jsonio.DECODE_ERRORS:
            return None
    return value if isinstance(value, dict) else None
