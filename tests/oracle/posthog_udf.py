"""PostHog's ordered / strict funnel state machine, transcribed to Python to cross-check the oracle.

PostHog computes funnels with a ClickHouse UDF, ``aggregate_funnel`` (funnel-udf/src/steps.rs in
PostHog/posthog), run once per actor over its events sorted by timestamp. This is that loop,
written out in Python from reading the Rust (no optional steps, no breakdown), so that
tests/unit/test_funnel_oracle.py can show where :mod:`tests.oracle.funnels` (the warehouse's
documented rules) gives PostHog's answer and where it deliberately does not. It is not used to
test the marts.

State: ``entered[k]`` is the latest-started attempt that has reached step k (``entered[0]`` is
"now"); an event matching step k extends ``entered[k - 1]`` when it is within the window of that
attempt's start and that attempt is not at step k already; an exclusion marks the attempt at the
step before its gap; strict funnels clear every step the event does not match. Events sharing a
timestamp are processed by step when their step sets differ (then strict clearing and exclusions
are skipped, as in the UDF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

__all__ = ["UdfEvent", "udf_funnel"]


@dataclass(frozen=True)
class UdfEvent:
    """``timestamp`` in seconds; ``steps``: 1-based steps it matches, ``-(g + 1)`` for an exclusion of gap g."""

    timestamp: float
    uuid: str
    steps: tuple[int, ...]


@dataclass
class _Entered:
    timestamp: float = 0.0
    excluded: bool = False
    timings: list[float] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)

    def copy(self) -> _Entered:
        return _Entered(self.timestamp, self.excluded, list(self.timings), list(self.uuids))


def udf_funnel(
    events: list[UdfEvent], step_count: int, window_seconds: float, order: str
) -> tuple[int, list[float]]:
    """``(furthest step, step timestamps)``; furthest ``0`` when the actor is dropped (excluded)."""
    entered = [_Entered() for _ in range(step_count + 1)]
    best_step, best = 0, _Entered()

    def process(event: UdfEvent, simultaneous: bool) -> None:
        nonlocal best_step, best
        for raw in reversed(event.steps):
            exclusion = raw < 0
            step = -raw if exclusion else raw
            previous_index = step - 1
            previous_at = entered[previous_index].timestamp
            in_window = previous_at != 0.0 and event.timestamp - previous_at <= window_seconds
            already = entered[step].timestamp == previous_at and entered[step].timestamp != 0.0
            if not in_window or already:
                continue
            previous = entered[previous_index]
            if exclusion:
                if not previous.excluded:
                    previous.excluded = True
                    if best_step == previous_index and event.timestamp - best.timestamp <= window_seconds:
                        best.excluded = True
                continue
            if simultaneous and event.uuid in previous.uuids:
                continue
            extended = _Entered(
                previous.timestamp,
                previous.excluded,
                [*previous.timings, event.timestamp],
                [*previous.uuids, event.uuid],
            )
            if not previous.excluded:
                entered[step] = extended.copy()
            if step > best_step or (step == best_step and best.excluded):
                best_step, best = step, extended
        if not simultaneous and order == "strict":
            for index in range(1, step_count + 1):
                if index not in event.steps:
                    entered[index] = _Entered()

    ordered = sorted(events, key=lambda e: e.timestamp)
    for timestamp, group in groupby(ordered, key=lambda e: e.timestamp):
        same = list(group)
        entered[0] = _Entered(timestamp)
        if len(same) == 1 or all(e.steps == same[0].steps for e in same):
            for event in same:
                process(event, False)
        else:
            split = [UdfEvent(e.timestamp, e.uuid, (s,)) for e in same for s in e.steps if s > 0]
            for event in sorted(split, key=lambda e: e.steps[0]):
                process(event, True)
        if entered[step_count].timestamp > 0.0:
            break
    if best.excluded:
        return 0, []
    return best_step, best.timings


def udf_unordered_funnel(
    events: list[UdfEvent], step_count: int, window_seconds: float
) -> tuple[int, list[float]]:
    """PostHog's unordered funnel (funnel-udf/src/unordered_steps.rs) for events matching one step each.

    Per-step queues of the events inside the window of the oldest one; before the oldest event
    leaves the window, the number of non-empty queues is a candidate; an exclusion empties them.
    """
    queues: list[list[UdfEvent]] = [[] for _ in range(step_count)]
    best_step, best_times = 0, []

    def update() -> None:
        nonlocal best_step, best_times
        completed = sum(1 for queue in queues if queue)
        if completed > best_step:
            best_step, best_times = completed, sorted(queue[0].timestamp for queue in queues if queue)

    ordered = sorted(events, key=lambda e: e.timestamp)
    for position, event in enumerate(ordered):
        while True:
            fronts = [(queue[0].timestamp, index) for index, queue in enumerate(queues) if queue]
            if not fronts:
                break
            oldest_at, oldest_index = min(fronts)
            complete = sum(1 for queue in queues if queue) >= step_count
            if not complete and oldest_at + window_seconds >= event.timestamp:
                break
            update()
            queues[oldest_index].pop(0)
        if all(step < 0 for step in event.steps):
            queues = [[] for _ in range(step_count)]
        else:
            queues[event.steps[0] - 1].append(event)
        if best_step == step_count:
            break
        if position == len(ordered) - 1:
            update()
    return best_step, best_times
