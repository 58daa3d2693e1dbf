"""Independent, plain-Python answers to declared insights, with PostHog's semantics.

The oracle reads PostHog queries as written (plain dicts, the ``source`` of an ``InsightVizNode``
or a bare query) and a small in-memory world of events, persons and groups. It shares no code with
``gw/insights`` or the SQL macros: dates, periods, filters and every kind of insight are worked out
again here with loops, dicts, :mod:`zoneinfo` and ``datetime`` so that a reader can check them
against PostHog's query runners (posthog/hogql_queries/insights/…):

* **Dates** (QueryDateRange): "now" is the last microsecond of the run date in the project's time
  zone. ``date_from`` defaults to 7 days back and starts at 00:00 (a relative hour date at its
  hour); ``date_to`` defaults to now and covers its whole day (hourly relative dates: their hour).
  Absolute dates count by their date part. Relative dates (``-7d``, ``-2w``, ``-3m``, ``mStart``,
  ``-1mStart``, ``yStart``…) move back like dateutil's relativedelta.
* **Periods**: hours are UTC hours (25 on the day DST ends), days / weeks / months are local
  calendar periods; weeks start on Sunday (or Monday).
* **Filters**: a missing property (or JSON null) never matches exact, icontains, regex, gt, lt…,
  always matches is_not, not_icontains, not_regex; lists mean "any of" (negations: "none of");
  values compare as text, gt/gte/lt/lte as numbers. ``$group_N`` is the event's group key.
  Group properties are the event's own group's current properties; person properties the
  person's current ones.
* **Trends**: see :func:`trends`; **stickiness**: :func:`stickiness`; **lifecycle**:
  :func:`lifecycle`; **retention**: :func:`retention`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "BREAKDOWN_NULL",
    "BREAKDOWN_OTHER",
    "LifecycleAnswer",
    "OracleEvent",
    "OracleWorld",
    "RetentionAnswer",
    "StickinessAnswer",
    "TrendsAnswer",
    "lifecycle",
    "query_of",
    "resolve_date_range",
    "retention",
    "stickiness",
    "trends",
    "with_group_property_mode",
]

BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
LIFECYCLE_STATUSES = ("new", "returning", "resurrecting", "dormant")


# ------------------------------------------------------------------------------------------------
# The world the oracle reads
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OracleEvent:
    """One (deduplicated) event as the insight sees it."""

    uuid: str
    project_id: int
    event: str
    timestamp: datetime  # aware, UTC
    properties: dict[str, Any]
    person_id: str | None
    groups: dict[int, str]  # group type index -> key ('' or missing: no group)


@dataclass
class OracleWorld:
    """Events plus the current person and group dimensions, per project."""

    events: list[OracleEvent]
    timezones: dict[int, str]
    run_date: date
    group_properties: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)
    group_created_at: dict[tuple[int, int, str], datetime] = field(default_factory=dict)
    person_properties: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    person_created_at: dict[tuple[int, str], datetime] = field(default_factory=dict)
    week_start: str = "sunday"
    #: ``(project_id, event uuid, group type index)`` → the group's properties when the event happened.
    group_properties_at_events: dict[tuple[int, str, int], dict[str, Any]] = field(default_factory=dict)
    #: ``current`` (PostHog) or ``as_of_event``: which group properties filters and breakdowns read.
    group_property_mode: str = "current"

    def project_events(self, project_id: int) -> list[OracleEvent]:
        """The events of one project."""
        return [e for e in self.events if e.project_id == project_id]


def with_group_property_mode(world: OracleWorld, document: dict[str, Any]) -> OracleWorld:
    """The world as an insight file sees it: its ``group_properties`` mode (default current)."""
    return replace(world, group_property_mode=document.get("group_properties", "current"))


def query_of(document: dict[str, Any]) -> dict[str, Any]:
    """The PostHog query of an insight file's content (unwraps ``InsightVizNode``)."""
    if document.get("kind") == "InsightVizNode":
        return dict(document["source"])
    return {k: v for k, v in document.items() if k not in ("name", "description", "group_properties")}


# ------------------------------------------------------------------------------------------------
# Dates
# ------------------------------------------------------------------------------------------------
_RELATIVE = re.compile(r"^-?([0-9]+)?([hdwmqy])(Start|End)?$")


def _month_length(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - timedelta(days=1)).day


def _go_back(now: datetime, text: str) -> tuple[datetime, bool]:
    """``now`` moved back by a relative date; also whether it moved by hours."""
    match = _RELATIVE.match(text)
    assert match, text
    number = int(match.group(1)) if match.group(1) else None
    unit, position = match.group(2), match.group(3)
    years = months = days = hours = 0
    replace: dict[str, int] = {}
    if unit == "h":
        hours = number or 0
        if position == "Start":
            replace = {"minute": 0, "second": 0, "microsecond": 0}
        elif position == "End":
            replace = {"minute": 59, "second": 59, "microsecond": 999999}
    elif unit == "d":
        days = number or 0
        if position == "Start":
            replace = {"hour": 0, "minute": 0, "second": 0, "microsecond": 0}
        elif position == "End":
            replace = {"hour": 23, "minute": 59, "second": 59, "microsecond": 999999}
    elif unit == "w":
        days = 7 * (number or 0)
    elif unit == "q":
        days = 91 * (number or 0)
    elif unit == "m":
        months = number or 0
        if position == "Start":
            replace = {"day": 1}
        elif position == "End":
            replace = {"day": 31}
    elif unit == "y":
        years = number or 0
        if position == "Start":
            replace = {"month": 1, "day": 1}
        elif position == "End":
            replace = {"day": 31}
    month = replace.pop("month", now.month)
    absolute_months = (now.year - years) * 12 + (month - 1) - months
    year, month = absolute_months // 12, absolute_months % 12 + 1
    day = min(replace.pop("day", now.day), _month_length(year, month))
    moved = now.replace(year=year, month=month, day=day, **replace)
    return moved - timedelta(days=days, hours=hours), unit == "h" and number is not None


def resolve_date_range(
    date_range: dict[str, Any] | None, interval: str, run_date: date
) -> tuple[datetime | None, datetime]:
    """``(date_from, date_to)`` as local wall-clock datetimes; ``date_from`` is None for 'all'."""
    date_range = date_range or {}
    now = datetime.combine(run_date, time(23, 59, 59, 999999))
    raw_from, raw_to = date_range.get("date_from"), date_range.get("date_to")
    date_from: datetime | None
    if raw_from is None:
        date_from = datetime.combine(run_date - timedelta(days=7), time())
    elif raw_from == "all":
        date_from = None
    elif re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_from):
        date_from = datetime.combine(date.fromisoformat(raw_from[:10]), time())
    else:
        moved, by_hours = _go_back(now, raw_from)
        date_from = moved.replace(minute=0, second=0, microsecond=0)
        if not by_hours:
            date_from = date_from.replace(hour=0)
    if raw_to is None:
        date_to = now
    elif re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_to):
        date_to = datetime.combine(date.fromisoformat(raw_to[:10]), time(23, 59, 59, 999999))
    else:
        moved, _ = _go_back(now, raw_to)
        date_to = moved.replace(minute=59, second=59, microsecond=999999)
        if interval != "hour":
            date_to = date_to.replace(hour=23)
    return date_from, date_to


# ------------------------------------------------------------------------------------------------
# Periods
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """Periods of one interval in one time zone. Keys: UTC hour (naive) or the local start date."""

    interval: str
    zone: ZoneInfo
    week_start: str = "sunday"

    def to_utc(self, local: datetime) -> datetime:
        """A local wall-clock datetime as a naive UTC datetime."""
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    def to_local(self, utc: datetime) -> datetime:
        """A naive UTC datetime as local wall-clock time."""
        return utc.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def key_of_local_date(self, day: date) -> date:
        if self.interval == "day":
            return day
        if self.interval == "week":
            first = 6 if self.week_start == "sunday" else 0  # Python weekday of the first day
            return day - timedelta(days=(day.weekday() - first) % 7)
        return day.replace(day=1)

    def key(self, utc: datetime) -> Any:
        """The period holding an instant (naive or aware UTC)."""
        utc = utc.replace(tzinfo=None)
        if self.interval == "hour":
            return utc.replace(minute=0, second=0, microsecond=0)
        return self.key_of_local_date(self.to_local(utc).date())

    def key_of_local(self, local: datetime) -> Any:
        """The period holding a local wall-clock time."""
        return self.key(self.to_utc(local))

    def following(self, key: Any, steps: int = 1) -> Any:
        if self.interval == "hour":
            return key + timedelta(hours=steps)
        if self.interval == "day":
            return key + timedelta(days=steps)
        if self.interval == "week":
            return key + timedelta(days=7 * steps)
        months = key.year * 12 + key.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)

    def start_local(self, key: Any) -> datetime:
        return self.to_local(key) if self.interval == "hour" else datetime.combine(key, time())

    def start_utc(self, key: Any) -> datetime:
        return key if self.interval == "hour" else self.to_utc(datetime.combine(key, time()))

    def keys(self, first: Any, last: Any) -> list[Any]:
        found = []
        key = first
        while key <= last:
            found.append(key)
            key = self.following(key)
        return found


def _utc(event: OracleEvent) -> datetime:
    return event.timestamp.astimezone(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------------
# Properties and filters
# ------------------------------------------------------------------------------------------------
def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _property_text(
    world: OracleWorld, event: OracleEvent, kind: str, key: str, group_index: int | None
) -> str | None:
    if kind == "event":
        group_key = re.match(r"^\$group_([0-4])$", key)
        if group_key:
            return event.groups.get(int(group_key.group(1))) or None
        return _as_text(event.properties.get(key))
    if kind == "person":
        if event.person_id is None:
            return None
        return _as_text(world.person_properties.get((event.project_id, event.person_id), {}).get(key))
    if kind == "group":
        assert group_index is not None
        group_key = event.groups.get(group_index) or ""
        if not group_key:
            return None
        if world.group_property_mode == "as_of_event":
            return _as_text(
                world.group_properties_at_events.get((event.project_id, event.uuid, group_index), {}).get(key)
            )
        return _as_text(world.group_properties.get((event.project_id, group_index, group_key), {}).get(key))
    raise ValueError(kind)


def _leaf_matches(world: OracleWorld, event: OracleEvent, leaf: dict[str, Any]) -> bool:
    text = _property_text(world, event, leaf["type"], leaf["key"], leaf.get("group_type_index"))
    operator = leaf.get("operator") or "exact"
    raw = leaf.get("value")
    values = [v for v in (raw if isinstance(raw, list) else [raw]) if v is not None]
    if operator == "is_set":
        return text is not None
    if operator == "is_not_set":
        return text is None
    if operator in ("gt", "gte", "lt", "lte"):
        try:
            number = float(text) if text is not None else None
        except ValueError:
            number = None
        if number is None or number != number:  # missing, not a number, NaN
            return False
        bound = float(values[0])
        return {
            "gt": number > bound,
            "gte": number >= bound,
            "lt": number < bound,
            "lte": number <= bound,
        }[operator]
    wanted = [_as_text(v) for v in values]
    if operator == "exact":
        return text is not None and text in wanted
    if operator == "is_not":
        return text is None or text not in wanted
    if operator == "icontains":
        return text is not None and any(w.lower() in text.lower() for w in wanted if w is not None)
    if operator == "not_icontains":
        return text is None or all(w.lower() not in text.lower() for w in wanted if w is not None)
    if operator == "regex":
        return text is not None and any(re.search(str(w), text) for w in wanted)
    if operator == "not_regex":
        return text is None or not any(re.search(str(w), text) for w in wanted)
    raise ValueError(f"operator {operator}")


def _matches(world: OracleWorld, event: OracleEvent, properties: Any) -> bool:
    """Whether an event passes ``properties`` (a list, or PostHog's AND/OR group object)."""
    if not properties:
        return True
    if isinstance(properties, list):
        return all(_matches(world, event, item) for item in properties)
    if properties.get("type") in ("AND", "OR"):
        children = [_matches(world, event, child) for child in properties.get("values", [])]
        if not children:
            return True
        return all(children) if properties["type"] == "AND" else any(children)
    return _leaf_matches(world, event, properties)


def _breakdown_text(world: OracleWorld, event: OracleEvent, breakdown: dict[str, Any]) -> str:
    kind = breakdown.get("breakdown_type") or "event"
    text = _property_text(
        world, event, kind, breakdown["breakdown"], breakdown.get("breakdown_group_type_index")
    )
    return text if text else BREAKDOWN_NULL


# ------------------------------------------------------------------------------------------------
# Shared pieces of the kinds
# ------------------------------------------------------------------------------------------------
def _range(
    world: OracleWorld, query: dict[str, Any], project_id: int, interval: str
) -> tuple[datetime, datetime]:
    date_from, date_to = resolve_date_range(query.get("dateRange"), interval, world.run_date)
    if date_from is None:
        zone = ZoneInfo(world.timezones[project_id])
        first = min(e.timestamp for e in world.project_events(project_id))
        date_from = datetime.combine(first.astimezone(zone).date(), time())
    return date_from, date_to


def _math(series: dict[str, Any], interval: str) -> str:
    math = series.get("math") or "total"
    if math == "weekly_active" and interval in ("week", "month"):
        return "dau"
    if math == "monthly_active" and interval == "month":
        return "dau"
    return math


def _actor(series: dict[str, Any], math: str) -> int | None:
    """The group type index the series counts, or None for persons."""
    index = series.get("math_group_type_index")
    if index is not None and math in ("unique_group", "dau", "weekly_active", "monthly_active"):
        return int(index)
    return None


def _actor_of(event: OracleEvent, group_index: int | None) -> str | None:
    if group_index is None:
        return event.person_id
    return event.groups.get(group_index) or None


def _series_events(
    world: OracleWorld,
    query: dict[str, Any],
    series: dict[str, Any],
    project_id: int,
    group_index: int | None,
    lower_utc: datetime,
    upper_utc: datetime,
) -> list[OracleEvent]:
    """Events of a series: name, both filter sets, time bounds (inclusive), a group when counted."""
    found = []
    for event in world.project_events(project_id):
        at = _utc(event)
        if at < lower_utc or at > upper_utc:
            continue
        if series.get("event") is not None and event.event != series["event"]:
            continue
        if group_index is not None and not event.groups.get(group_index):
            continue
        if not _matches(world, event, query.get("properties")):
            continue
        if not _matches(world, event, series.get("properties")):
            continue
        found.append(event)
    return found


# ------------------------------------------------------------------------------------------------
# Trends
# ------------------------------------------------------------------------------------------------
@dataclass
class TrendsAnswer:
    """Per interval start (local, UTC) and per line: the values and the actors behind them."""

    starts: list[tuple[datetime, datetime]]
    lines: dict[tuple[int, str | None], list[int]]
    actors: dict[tuple[int, str | None, int], dict[str | None, int]]


def trends(world: OracleWorld, query: dict[str, Any], project_id: int) -> TrendsAnswer:
    """PostHog's trends for one project.

    Events count from date_from (month intervals: from the start of its month) through date_to,
    in the interval holding their local time. total = events, dau = distinct persons (groups with
    math_group_type_index), unique_group = distinct group keys; weekly_active / monthly_active =
    actors active on the interval's first day (hour) or the 6 / 29 days before it, from events
    since date_from − 7 / 30 days, turned into dau for intervals of a week (month) or longer.
    Breakdown lines: the top ``breakdown_limit`` (25) property values by summed points (missing
    values last, ties by value), the rest summed into "Other".
    """
    interval = query.get("interval") or "day"
    calendar = Calendar(interval, ZoneInfo(world.timezones[project_id]), world.week_start)
    date_from, date_to = _range(world, query, project_id, interval)
    first, last = calendar.key_of_local(date_from), calendar.key_of_local(date_to)
    keys = calendar.keys(first, last)
    position = {key: n for n, key in enumerate(keys)}
    breakdown = query.get("breakdownFilter") or {}
    has_breakdown = breakdown.get("breakdown") is not None
    limit = breakdown.get("breakdown_limit") or 25
    lines: dict[tuple[int, str | None], list[int]] = {}
    actors: dict[tuple[int, str | None, int], dict[str | None, int]] = {}
    for series_index, series in enumerate(query["series"]):
        math = _math(series, interval)
        group_index = _actor(series, math)
        window = {"weekly_active": 7, "monthly_active": 30}.get(math)
        if window is not None:
            lower = calendar.to_utc(date_from - timedelta(days=window))
        elif interval == "month":
            lower = calendar.start_utc(first)
        else:
            lower = calendar.to_utc(date_from)
        events = _series_events(
            world, query, series, project_id, group_index, lower, calendar.to_utc(date_to)
        )
        # (raw breakdown value, interval position) -> actor -> events
        cells: dict[tuple[str | None, int], dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
        if window is None:
            for event in events:
                value = _breakdown_text(world, event, breakdown) if has_breakdown else None
                cells[(value, position[calendar.key(_utc(event))])][_actor_of(event, group_index)] += 1
        else:
            for n, key in enumerate(keys):
                anchor = calendar.start_local(key)
                for event in events:
                    local = calendar.to_local(_utc(event))
                    if interval == "hour":
                        moment, earliest = (
                            local.replace(minute=0, second=0, microsecond=0),
                            anchor - timedelta(days=window),
                        )
                        inside = earliest < moment <= anchor
                    else:
                        inside = anchor.date() - timedelta(days=window) < local.date() <= anchor.date()
                    if inside:
                        value = _breakdown_text(world, event, breakdown) if has_breakdown else None
                        cells[(value, n)][_actor_of(event, group_index)] += 1
        values: dict[tuple[str | None, int], int] = {}
        for (value, n), by_actor in cells.items():
            if math == "total":
                values[(value, n)] = sum(by_actor.values())
            else:
                values[(value, n)] = len([actor for actor in by_actor if actor is not None])
        raw_values = sorted({value for value, _ in values})
        if has_breakdown:
            totals = {v: sum(c for (value, _), c in values.items() if value == v) for v in raw_values}
            ranked = sorted(raw_values, key=lambda v: (v == BREAKDOWN_NULL, -totals[v], v))
            shown = {v: (v if rank < limit else BREAKDOWN_OTHER) for rank, v in enumerate(ranked)}
            if breakdown.get("breakdown_hide_other_aggregation"):
                shown = {v: s for v, s in shown.items() if s != BREAKDOWN_OTHER}
        else:
            shown = {None: None}
        if not has_breakdown:
            lines[(series_index, None)] = [0] * len(keys)
        for (value, n), count in values.items():
            if value not in shown:
                continue
            line = lines.setdefault((series_index, shown[value]), [0] * len(keys))
            line[n] += count
        for (value, n), by_actor in cells.items():
            if value in shown:
                actors[(series_index, value, n)] = dict(by_actor)
    starts = [(calendar.start_local(key), calendar.start_utc(key)) for key in keys]
    return TrendsAnswer(starts=starts, lines=lines, actors=actors)


# ------------------------------------------------------------------------------------------------
# Stickiness
# ------------------------------------------------------------------------------------------------
@dataclass
class StickinessAnswer:
    """Per series: actors active on exactly n = 1 … N intervals, and the actors themselves."""

    counts: dict[int, list[int]]
    actors: dict[int, dict[str, int]]


def stickiness(world: OracleWorld, query: dict[str, Any], project_id: int) -> StickinessAnswer:
    """PostHog's stickiness: for each actor (person; group for unique_group) the number of distinct
    intervals of the range with a matching event (from date_from, month intervals from its
    month's start, through date_to); ``counts[series][n - 1]`` = actors with exactly n."""
    interval = query.get("interval") or "day"
    calendar = Calendar(interval, ZoneInfo(world.timezones[project_id]), world.week_start)
    date_from, date_to = _range(world, query, project_id, interval)
    first, last = calendar.key_of_local(date_from), calendar.key_of_local(date_to)
    total = len(calendar.keys(first, last))
    lower = calendar.start_utc(first) if interval == "month" else calendar.to_utc(date_from)
    counts: dict[int, list[int]] = {}
    actors: dict[int, dict[str, int]] = {}
    for series_index, series in enumerate(query["series"]):
        group_index = _actor(series, _math(series, interval))
        events = _series_events(
            world, query, series, project_id, group_index, lower, calendar.to_utc(date_to)
        )
        periods: dict[str, set[Any]] = defaultdict(set)
        for event in events:
            actor = _actor_of(event, group_index)
            if actor is not None:
                periods[actor].add(calendar.key(_utc(event)))
        actors[series_index] = {actor: len(keys) for actor, keys in periods.items()}
        counts[series_index] = [
            sum(1 for active in actors[series_index].values() if active == n) for n in range(1, total + 1)
        ]
    return StickinessAnswer(counts=counts, actors=actors)


# ------------------------------------------------------------------------------------------------
# Lifecycle
# ------------------------------------------------------------------------------------------------
@dataclass
class LifecycleAnswer:
    """Per status: one value per interval (dormant negative), and who had which status when."""

    starts: list[tuple[datetime, datetime]]
    values: dict[str, list[int]]
    actors: dict[tuple[int, str], str]  # (interval position, actor) -> status


def lifecycle(world: OracleWorld, query: dict[str, Any], project_id: int) -> LifecycleAnswer:
    """PostHog's lifecycle: per actor the sorted periods with a matching event, from the period
    before date_from through date_to's. Period i is new when i is the first and holds the actor's
    created_at, returning when the actor was active in the period just before (and i is not the
    first), else resurrecting; the period after an active one without activity is dormant.
    Events with ``$process_person_profile`` false are left out."""
    interval = query.get("interval") or "day"
    calendar = Calendar(interval, ZoneInfo(world.timezones[project_id]), world.week_start)
    date_from, date_to = _range(world, query, project_id, interval)
    first, last = calendar.key_of_local(date_from), calendar.key_of_local(date_to)
    keys = calendar.keys(first, last)
    position = {key: n for n, key in enumerate(keys)}
    series = query["series"][0]
    group_index = query.get("aggregation_group_type_index")
    lower = calendar.start_utc(calendar.following(first, -1))
    upper = calendar.start_utc(calendar.following(last, 1))
    activity: dict[str, set[Any]] = defaultdict(set)
    for event in world.project_events(project_id):
        at = _utc(event)
        if not lower <= at < upper:
            continue
        if series.get("event") is not None and event.event != series["event"]:
            continue
        if _as_text(event.properties.get("$process_person_profile")) == "false":
            continue
        if not (
            _matches(world, event, query.get("properties"))
            and _matches(world, event, series.get("properties"))
        ):
            continue
        actor = _actor_of(event, group_index)
        if actor is not None:
            activity[actor].add(calendar.key(at))
    values = {status: [0] * len(keys) for status in LIFECYCLE_STATUSES}
    statuses: dict[tuple[int, str], str] = {}
    for actor, periods in activity.items():
        if group_index is None:
            created_at = world.person_created_at.get((project_id, actor))
        else:
            created_at = world.group_created_at.get((project_id, group_index, actor))
        created = calendar.key(created_at.astimezone(UTC)) if created_at is not None else None
        ordered = sorted(periods)
        for number, period in enumerate(ordered):
            if number == 0:
                status = "new" if created == period else "resurrecting"
            else:
                status = "returning" if calendar.following(ordered[number - 1]) == period else "resurrecting"
            labelled = [(period, status)]
            following = calendar.following(period)
            if following not in periods:
                labelled.append((following, "dormant"))
            for key, label in labelled:
                if key in position:
                    statuses[(position[key], actor)] = label
                    values[label][position[key]] += -1 if label == "dormant" else 1
    starts = [(calendar.start_local(key), calendar.start_utc(key)) for key in keys]
    return LifecycleAnswer(starts=starts, values=values, actors=statuses)


# ------------------------------------------------------------------------------------------------
# Retention
# ------------------------------------------------------------------------------------------------
@dataclass
class RetentionAnswer:
    """Cohort starts and the cohort × period table, with the actors of every cell."""

    cohort_starts: list[tuple[datetime, datetime]]
    table: list[list[int]]
    actors: dict[tuple[int, int], set[str]]


def _entity_matches(world: OracleWorld, event: OracleEvent, entity: dict[str, Any] | None) -> bool:
    entity = entity or {"id": "$pageview"}
    if entity.get("id") is not None and event.event != entity["id"]:
        return False
    return _matches(world, event, entity.get("properties"))


def retention(world: OracleWorld, query: dict[str, Any], project_id: int) -> RetentionAnswer:
    """PostHog's calendar retention. Cohorts: date_from's period (or the totalIntervals periods
    ending with date_to's) through date_to's period. Recurring: an actor is in cohort r for every
    period r with a target event; first time: only for the period of its first-ever target event.
    Cell (r, c > 0): cohort members with a returning event in period r + c (inside the range,
    c < totalIntervals); cell (r, 0) is the cohort."""
    retention_filter = query["retentionFilter"]
    interval = (retention_filter.get("period") or "Day").lower()
    total = retention_filter.get("totalIntervals") or 7
    first_time = retention_filter.get("retentionType") == "retention_first_time"
    calendar = Calendar(interval, ZoneInfo(world.timezones[project_id]), world.week_start)
    date_range = query.get("dateRange") or {}
    date_from, date_to = resolve_date_range(date_range, interval, world.run_date)
    last = calendar.key_of_local(date_to)
    if date_range.get("date_from") is None:
        first = calendar.following(last, -(total - 1))
    else:
        if date_from is None:
            date_from, _ = _range(world, query, project_id, interval)
        first = calendar.key_of_local(date_from)
    cohorts = calendar.keys(first, last)
    position = {key: n for n, key in enumerate(cohorts)}
    group_index = query.get("aggregation_group_type_index")
    target, returning = retention_filter.get("targetEntity"), retention_filter.get("returningEntity")
    starts: dict[str, set[Any]] = defaultdict(set)
    first_target: dict[str, datetime] = {}
    returns: dict[str, set[Any]] = defaultdict(set)
    for event in world.project_events(project_id):
        actor = _actor_of(event, group_index)
        if actor is None or not _matches(world, event, query.get("properties")):
            continue
        key = calendar.key(_utc(event))
        if _entity_matches(world, event, target):
            if first_time:
                if actor not in first_target or _utc(event) < first_target[actor]:
                    first_target[actor] = _utc(event)
            elif key in position:
                starts[actor].add(key)
        if _entity_matches(world, event, returning) and key in position:
            returns[actor].add(key)
    if first_time:
        for actor, at in first_target.items():
            key = calendar.key(at)
            if key in position:
                starts[actor].add(key)
    table = [[0] * total for _ in cohorts]
    cell_actors: dict[tuple[int, int], set[str]] = defaultdict(set)
    for actor, keys in starts.items():
        for key in keys:
            row = position[key]
            cell_actors[(row, 0)].add(actor)
            for back in returns.get(actor, ()):
                column = position[back] - row
                if 0 < column < total:
                    cell_actors[(row, column)].add(actor)
    for (row, column), members in cell_actors.items():
        table[row][column] = len(members)
    cohort_starts = [(calendar.start_local(key), calendar.start_utc(key)) for key in cohorts]
    return RetentionAnswer(cohort_starts=cohort_starts, table=table, actors=dict(cell_actors))


def distinct(values: Iterable[Any]) -> list[Any]:
    """Unique values in first-seen order."""
    return list(dict.fromkeys(values))
