"""Independent, plain-Python funnels with the warehouse's documented (PostHog's) semantics.

Shares no code with the SQL (macros/insights/funnels.sql): it walks every actor's events one by
one, tries every attempt and keeps the best, with lists and loops — slow and obviously correct.
Dates, filters and breakdown values come from :mod:`tests.oracle.insights` (the insights oracle).

The rules, as README "Funnels" states them:

* the funnel reads the project's events inside the date range that pass the insight's filters
  and have an actor (the person, or the event's group key of ``aggregation_group_type_index``);
  ordered / unordered funnels read only events matching a step or an exclusion, strict funnels
  all of them; events are ordered by (timestamp, uuid); W = window × unit (a month is 31 days);
* ordered / strict: every step-1 event starts an attempt; step j + 1 is the first event matching
  step j + 1 at or after step j's timestamp that the attempt has not used, if it lies within W of
  step 1 (inclusive); strict: no event strictly between steps j and j + 1 unless it matches step
  j; an exclusion of the gap after step g voids the attempt when it is after step g (strictly),
  at or before step g + 1 and within W of step 1; a voided attempt is recorded as reaching
  min(its furthest step, g + 1); the actor's step is the largest recorded one; it counts only if
  a non-voided attempt reaches that step, with the one that reached it first (then the latest
  start, then the larger step-1 uuid);
* unordered: every step event anchors [t, t + W]; an exclusion strictly after t inside it cuts
  the window there and the attempt counts only when complete; steps = steps with an event in the
  window, their times the sorted first times; the actor keeps its most steps, earliest anchor;
* breakdowns: first_touch / last_touch = the value on the actor's first / last event read;
  all_events = one funnel per value on its events; step = one funnel per value seen on the
  attributed step's events, that step accepting only events with the value. Values are ranked by
  the actors that stopped at the last step, then the one before… (ties by value); the first
  ``breakdown_limit`` (25) are kept, the rest become "Other".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle.insights import (
    BREAKDOWN_OTHER,
    OracleEvent,
    OracleWorld,
    _breakdown_text,
    _matches,
    _range,
)

__all__ = ["FunnelActor", "FunnelAnswer", "FunnelStep", "funnel"]

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 31 * 86400}


@dataclass(frozen=True)
class FunnelActor:
    """One actor's row: how far it got and when it did each step (naive UTC)."""

    furthest_step: int
    step_times: tuple[datetime, ...]


@dataclass(frozen=True)
class FunnelStep:
    """One step of one breakdown line."""

    count: int
    average_seconds: float | None
    median_seconds: float | None


@dataclass
class FunnelAnswer:
    """``actors``: (breakdown property value, actor) → row; ``lines``: breakdown value → steps."""

    actors: dict[tuple[str | None, str], FunnelActor] = field(default_factory=dict)
    lines: dict[str | None, list[FunnelStep]] = field(default_factory=dict)
    order: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class _Event:
    at: datetime  # naive UTC
    uuid: str
    steps: frozenset[int]  # 1-based steps it matches
    gaps: frozenset[int]  # gaps g (after step g) it is an exclusion of
    value: str | None  # its breakdown value


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _node_matches(world: OracleWorld, event: OracleEvent, node: dict[str, Any]) -> bool:
    if node.get("event") is not None and event.event != node["event"]:
        return False
    return _matches(world, event, node.get("properties"))


def _ordered(events: list[_Event], step_count: int, window: timedelta, strict: bool) -> FunnelActor | None:
    """Ordered / strict: grow every attempt step by step, keep PostHog's answer."""
    chains = {start.uuid: [start] for start in events if 1 in start.steps}
    growing = set(chains)
    for step in range(2, step_count + 1):
        proposals: dict[str, list[str]] = defaultdict(list)  # event uuid -> attempts that would take it
        for key in growing:
            chain = chains[key]
            previous, start = chain[-1], chain[0]
            used = {e.uuid for e in chain}
            candidates = [e for e in events if step in e.steps and e.at >= previous.at and e.uuid not in used]
            if not candidates:
                continue
            candidate = candidates[0]
            if candidate.at - start.at > window:
                continue
            if strict and any(previous.at < e.at < candidate.at and step - 1 not in e.steps for e in events):
                continue
            proposals[candidate.uuid].append(key)
        growing = set()
        by_uuid = {e.uuid: e for e in events}
        for uuid, keys in proposals.items():
            # the latest-started attempt takes the event; the others stop where they are
            winner = max(keys, key=lambda k: (chains[k][0].at, k))
            chains[winner].append(by_uuid[uuid])
            growing.add(winner)

    attempts = []  # (recorded step, voided, reached at, start, start uuid, times)
    for key, chain in chains.items():
        start = chain[0]
        furthest = len(chain)
        voided_after = None
        for gap in range(1, min(furthest, step_count - 1) + 1):
            gap_start = chain[gap - 1].at
            gap_end = chain[gap].at if gap < furthest else None
            for event in events:
                if not (
                    gap in event.gaps
                    and event.at > gap_start
                    and event.at - start.at <= window
                    and (gap_end is None or event.at <= gap_end)
                ):
                    continue
                # strict: only while the attempt is alive (nothing else happened since step g)
                if strict and any(gap_start < e.at < event.at and gap not in e.steps for e in events):
                    continue
                voided_after = gap
                break
            if voided_after is not None:
                break
        recorded = furthest if voided_after is None else min(furthest, voided_after + 1)
        attempts.append(
            (recorded, voided_after is not None, chain[-1].at, start.at, key, [e.at for e in chain])
        )
    if not attempts:
        return None
    best = max(a[0] for a in attempts)
    clean = [a for a in attempts if not a[1] and a[0] == best]
    if not clean:
        return None
    clean.sort(key=lambda a: a[4], reverse=True)  # larger uuid first …
    clean.sort(key=lambda a: a[3], reverse=True)  # … after the latest start …
    clean.sort(key=lambda a: a[2])  # … after the earliest time of reaching the step
    chosen = clean[0]
    return FunnelActor(chosen[0], tuple(chosen[5]))


def _unordered(events: list[_Event], step_count: int, window: timedelta) -> FunnelActor | None:
    """Unordered: every step event anchors a window; keep the earliest with the most steps."""
    found = []  # (steps, anchor time, anchor uuid, times)
    for anchor in events:
        if not anchor.steps:
            continue
        exclusions = [e.at for e in events if e.gaps and e.at > anchor.at]
        cut = bool(exclusions) and min(exclusions) - anchor.at <= window
        end = min(exclusions) if cut else anchor.at + window
        firsts = []
        for step in range(1, step_count + 1):
            times = [e.at for e in events if step in e.steps and anchor.at <= e.at <= end]
            if times:
                firsts.append(min(times))
        if cut and len(firsts) < step_count:
            continue
        found.append((len(firsts), anchor.at, anchor.uuid, sorted(firsts)))
    if not found:
        return None
    best = max(f[0] for f in found)
    chosen = min((f for f in found if f[0] == best), key=lambda f: (f[1], f[2]))
    return FunnelActor(best, tuple(chosen[3]))


def funnel(world: OracleWorld, query: dict[str, Any], project_id: int) -> FunnelAnswer:
    """PostHog's funnel for one project: every actor's row and the steps of every breakdown line."""
    series = query["series"]
    step_count = len(series)
    settings = query.get("funnelsFilter") or {}
    order = settings.get("funnelOrderType") or "ordered"
    window = timedelta(
        seconds=(settings.get("funnelWindowInterval") or 14)
        * UNIT_SECONDS[settings.get("funnelWindowIntervalUnit") or "day"]
    )
    group_index = query.get("aggregation_group_type_index")
    breakdown = query.get("breakdownFilter") or {}
    has_breakdown = breakdown.get("breakdown") is not None
    attribution = (settings.get("breakdownAttributionType") or "first_touch") if has_breakdown else None
    attributed_step = (settings.get("breakdownAttributionValue") or 0) + 1

    zone = ZoneInfo(world.timezones[project_id])
    date_from, date_to = _range(world, query, project_id, "day")
    lower = _naive_utc(date_from.replace(tzinfo=zone))
    upper = _naive_utc(date_to.replace(tzinfo=zone))

    by_actor: dict[str, list[_Event]] = defaultdict(list)
    for event in world.project_events(project_id):
        at = _naive_utc(event.timestamp)
        actor = event.person_id if group_index is None else (event.groups.get(group_index) or None)
        if actor is None or not lower <= at <= upper or not _matches(world, event, query.get("properties")):
            continue
        steps = frozenset(n for n, node in enumerate(series, start=1) if _node_matches(world, event, node))
        gaps = frozenset(
            gap
            for exclusion in settings.get("exclusions") or []
            for gap in range(exclusion["funnelFromStep"] + 1, exclusion["funnelToStep"] + 1)
            if _node_matches(world, event, exclusion)
        )
        if order != "strict" and not steps and not gaps:
            continue
        value = _breakdown_text(world, event, breakdown) if has_breakdown else None
        by_actor[actor].append(_Event(at, event.uuid, steps, gaps, value))

    answer = FunnelAnswer()
    for actor, events in by_actor.items():
        events.sort(key=lambda e: (e.at, e.uuid))
        if attribution == "all_events":
            funnels = {value: [e for e in events if e.value == value] for value in {e.value for e in events}}
        elif attribution == "step":
            values = {e.value for e in events if attributed_step in e.steps}
            funnels = {
                value: [
                    e
                    if e.value == value
                    else _Event(e.at, e.uuid, e.steps - {attributed_step}, e.gaps, e.value)
                    for e in events
                ]
                for value in values
            }
        elif attribution == "first_touch":
            funnels = {events[0].value: events}
        elif attribution == "last_touch":
            funnels = {events[-1].value: events}
        else:
            funnels = {None: events}
        for value, own_events in funnels.items():
            if order == "unordered":
                row = _unordered(own_events, step_count, window)
            else:
                row = _ordered(own_events, step_count, window, order == "strict")
            if row is not None:
                answer.actors[(value, actor)] = row

    _aggregate(answer, step_count, has_breakdown, breakdown)
    return answer


def _aggregate(answer: FunnelAnswer, step_count: int, has_breakdown: bool, breakdown: dict[str, Any]) -> None:
    """Breakdown ranks, "Other" and per-step counts and conversion times."""
    stopped: dict[str | None, list[int]] = defaultdict(lambda: [0] * step_count)
    for (value, _), row in answer.actors.items():
        stopped[value][row.furthest_step - 1] += 1
    ranked = sorted(stopped, key=lambda v: (tuple(-c for c in reversed(stopped[v])), v or ""))
    limit = breakdown.get("breakdown_limit") or 25
    hide_other = bool(breakdown.get("breakdown_hide_other_aggregation"))
    shown: dict[str | None, str | None] = {}
    for rank, value in enumerate(ranked, start=1):
        if not has_breakdown:
            shown[value] = None
        elif rank <= limit:
            shown[value] = value
        elif not hide_other:
            shown[value] = BREAKDOWN_OTHER
    answer.actors = {key: row for key, row in answer.actors.items() if key[0] in shown}
    answer.order = list(dict.fromkeys(shown[v] for v in ranked if v in shown))
    if not has_breakdown and not answer.order:
        answer.order = [None]
    durations: dict[str | None, list[list[float]]] = {
        line: [[] for _ in range(step_count)] for line in answer.order
    }
    for (value, _), row in answer.actors.items():
        line = shown[value]
        for step in range(row.furthest_step):
            seconds = (
                0.0 if step == 0 else (row.step_times[step] - row.step_times[step - 1]) / timedelta(seconds=1)
            )
            durations[line][step].append(seconds)
    for line in answer.order:
        steps = []
        for step, values in enumerate(durations[line]):
            if step == 0 or not values:
                steps.append(FunnelStep(len(values), None, None))
            else:
                steps.append(FunnelStep(len(values), statistics.fmean(values), statistics.median(values)))
        answer.lines[line] = steps
