"""The funnel oracle (the warehouse's documented rules) against PostHog's own funnel algorithm.

tests/oracle/posthog_udf.py transcribes PostHog's ``aggregate_funnel`` UDF; here hypothesis feeds
both the same actor's events and checks that they agree wherever the README says the warehouse
does what PostHog does: ordered funnels (with exclusions, with simultaneous events), strict
funnels, unordered funnels (with exclusions). The documented differences — an exclusion that
shares its timestamp with another event, strict funnels with simultaneous events or with
exclusions — are pinned by the hand-written cases at the bottom, on both sides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.oracle.funnels import _Event, _ordered, _unordered
from tests.oracle.posthog_udf import UdfEvent, udf_funnel, udf_unordered_funnel

EPOCH = datetime(2000, 1, 1)
START = datetime(2026, 1, 1)
WINDOW = timedelta(minutes=60)
STEP_OF = {"a": 1, "b": 2, "c": 3}


def _both(
    names_at: list[tuple[int, str]], exclusion_gaps: frozenset[int], strict: bool
) -> tuple[list[_Event], list[UdfEvent]]:
    """The same events for the oracle and for the UDF (minutes → timestamps, sorted, uuids by position)."""
    ordered = sorted(names_at)
    oracle, udf = [], []
    for position, (minute, name) in enumerate(ordered):
        at = START + timedelta(minutes=minute)
        steps = frozenset({STEP_OF[name]} if name in STEP_OF else set())
        gaps = exclusion_gaps if name == "x" else frozenset()
        if not strict and not steps and not gaps:
            continue  # ordered and unordered funnels read only their own events
        uuid = f"u{position:04d}"
        oracle.append(_Event(at, uuid, steps, gaps, None))
        udf.append(
            UdfEvent((at - EPOCH).total_seconds(), uuid, (*sorted(steps), *(-(g + 1) for g in sorted(gaps))))
        )
    return oracle, udf


def _oracle_answer(row: object) -> tuple[int, list[float]]:
    if row is None:
        return 0, []
    return row.furthest_step, [(t - EPOCH).total_seconds() for t in row.step_times]  # type: ignore[attr-defined]


def sequences(distinct: bool, names: str = "abcxo") -> st.SearchStrategy[list[tuple[int, str]]]:
    minutes = (
        st.integers(0, 40).map(lambda n: 5 * n) if distinct else st.sampled_from([0, 15, 30, 60, 75, 90])
    )
    pairs = st.tuples(minutes, st.sampled_from(list(names)))
    if distinct:
        return st.lists(pairs, min_size=1, max_size=12, unique_by=lambda pair: pair[0])
    return st.lists(pairs, min_size=1, max_size=12)


GAPS = st.sampled_from([frozenset(), frozenset({1}), frozenset({2}), frozenset({1, 2})])


@settings(max_examples=400, deadline=None)
@given(events=sequences(distinct=True), gaps=GAPS)
def test_ordered_funnels_match_posthogs_algorithm(
    events: list[tuple[int, str]], gaps: frozenset[int]
) -> None:
    oracle, udf = _both(events, gaps, strict=False)
    assert _oracle_answer(_ordered(oracle, 3, WINDOW, strict=False)) == udf_funnel(udf, 3, 3600, "ordered")


@settings(max_examples=400, deadline=None)
@given(events=sequences(distinct=False, names="abco"))
def test_simultaneous_events_fill_ordered_steps_as_posthog_does(events: list[tuple[int, str]]) -> None:
    oracle, udf = _both(events, frozenset(), strict=False)
    assert _oracle_answer(_ordered(oracle, 3, WINDOW, strict=False)) == udf_funnel(udf, 3, 3600, "ordered")


@settings(max_examples=400, deadline=None)
@given(events=sequences(distinct=True))
def test_strict_funnels_match_posthogs_algorithm(events: list[tuple[int, str]]) -> None:
    oracle, udf = _both(events, frozenset(), strict=True)
    assert _oracle_answer(_ordered(oracle, 3, WINDOW, strict=True)) == udf_funnel(udf, 3, 3600, "strict")


@settings(max_examples=400, deadline=None)
@given(events=sequences(distinct=True), with_exclusions=st.booleans())
def test_unordered_funnels_match_posthogs_algorithm(
    events: list[tuple[int, str]], with_exclusions: bool
) -> None:
    oracle, udf = _both(events, frozenset({1, 2}) if with_exclusions else frozenset(), strict=False)
    assert _oracle_answer(_unordered(oracle, 3, WINDOW)) == udf_unordered_funnel(udf, 3, 3600)


# ------------------------------------------------------------------------------------------------
# The documented differences, pinned on both sides
# ------------------------------------------------------------------------------------------------
def test_an_exclusion_at_the_same_time_as_the_next_step_voids_here_but_posthog_skips_it() -> None:
    events = [(0, "a"), (10, "x"), (10, "b"), (20, "c")]
    oracle, udf = _both(events, frozenset({1}), strict=False)
    assert _ordered(oracle, 3, WINDOW, strict=False) is None  # the exclusion comes first: voided
    assert udf_funnel(udf, 3, 3600, "ordered")[0] == 3  # the UDF ignores exclusions among simultaneous events


def test_strict_funnels_break_on_a_simultaneous_other_event_where_posthog_does_not() -> None:
    events = [(0, "a"), (10, "b"), (20, "b"), (20, "o"), (30, "c")]
    oracle, udf = _both(events, frozenset(), strict=True)
    assert _oracle_answer(_ordered(oracle, 3, WINDOW, strict=True))[0] == 2  # "o" at 20 breaks step 2 → 3
    assert udf_funnel(udf, 3, 3600, "strict")[0] == 3  # the UDF skips the strict check at 20


def test_a_broken_strict_attempt_is_not_voided_by_a_later_attempts_exclusion() -> None:
    events = [(0, "a"), (5, "o"), (20, "a"), (25, "x")]
    oracle, udf = _both(events, frozenset({1}), strict=True)
    assert _oracle_answer(_ordered(oracle, 3, WINDOW, strict=True)) == (1, [(START - EPOCH).total_seconds()])
    assert udf_funnel(udf, 3, 3600, "strict") == (0, [])  # the UDF also voids its recorded best attempt
