"""The funnel marts against the plain-Python funnel oracle (tests/oracle/funnels.py).

Each world is built with one dbt run of the insight marts; every funnel of
:mod:`tests.integration.funnel_cases` is computed for every project of the world, so one run
checks many funnels × many event sets:

* hand-written events, one small story per actor, with explicit assertions for every rule the
  README's "Funnels" states (window end, new attempts, ties, one event per step, strict, exclusions,
  groups, unordered, date range, breakdowns), each also compared with the oracle;
* hypothesis-generated event sets: eight projects in four time zones per example, times drawn
  from a grid around the window lengths (exact edges, ± 1 µs, ties);
* a sample of the seeded generator with the funnels shipped in dbt_project/insights.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gw.generator import TruthEvent
from gw.insights.funnel_results import funnel_results
from tests.integration.funnel_cases import FUNNELS, RUN_DATE
from tests.integration.insight_harness import EventLog, Marts, build_insight_marts, write_lake
from tests.oracle.funnels import FunnelActor, FunnelAnswer, FunnelStep, funnel
from tests.oracle.insight_world import world_from_truth
from tests.oracle.insights import OracleWorld, query_of
from tests.oracle.persons import person_id_for

pytestmark = pytest.mark.integration

TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


# ------------------------------------------------------------------------------------------------
# Events and reading the marts
# ------------------------------------------------------------------------------------------------


def read_funnel(marts: Marts, insight_id: str, project_id: int) -> FunnelAnswer:
    """The marts of one funnel and project in the oracle's shape."""
    answer = FunnelAnswer()
    for value, actor_id, furthest, times in marts.connection.execute(
        "select breakdown_property_value, actor_id, furthest_step, step_timestamps "
        "from marts.mart_insight_funnel_actors where insight_id = ? and project_id = ?",
        [insight_id, project_id],
    ).fetchall():
        answer.actors[(value, actor_id)] = FunnelActor(int(furthest), tuple(times))
    for value, _number, count, average, median in marts.connection.execute(
        "select breakdown_value, step_number, actor_count, average_conversion_seconds, median_conversion_seconds "
        "from marts.mart_insight_funnel_steps where insight_id = ? and project_id = ? "
        "order by breakdown_rank nulls first, breakdown_value, step_number",
        [insight_id, project_id],
    ).fetchall():
        if value not in answer.lines:
            answer.order.append(value)
        answer.lines.setdefault(value, []).append(FunnelStep(int(count), average, median))
    return answer


def check_funnel(
    marts: Marts, world: OracleWorld, insight_id: str, document: dict[str, Any], project_id: int
) -> None:
    """Assert that both funnel marts of one insight and project equal the oracle's answer."""
    expected = funnel(world, query_of(document), project_id)
    found = read_funnel(marts, insight_id, project_id)
    where = f"{insight_id}, project {project_id}"
    assert found.actors == expected.actors, f"{where}: actors"
    assert found.order == expected.order, f"{where}: breakdown lines"
    for line, steps in expected.lines.items():
        got = found.lines[line]
        assert [step.count for step in got] == [step.count for step in steps], f"{where}: counts of {line}"
        for number, (mart_step, step) in enumerate(zip(got, steps, strict=True), start=1):
            assert mart_step.average_seconds == pytest.approx(step.average_seconds, abs=1e-6), (
                f"{where}: average {number}"
            )
            assert mart_step.median_seconds == pytest.approx(step.median_seconds, abs=1e-6), (
                f"{where}: median {number}"
            )


def actor_row(
    marts: Marts, insight_id: str, project_id: int, actor: str, value: str | None = None
) -> tuple[int, list[datetime]] | None:
    """(furthest step, step timestamps) of a group key or of the person of one distinct id, or None."""
    actors = read_funnel(marts, insight_id, project_id).actors
    row = actors.get((value, actor)) or actors.get((value, person_id_for(project_id, actor)))
    return None if row is None else (row.furthest_step, list(row.step_times))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ------------------------------------------------------------------------------------------------
# World 1: hand-written stories
# ------------------------------------------------------------------------------------------------
def story_events() -> list[TruthEvent]:
    log = EventLog()
    company = "company"
    # -- project 1 (UTC): persons and companies, one story each ---------------------------------
    # the window's end is inclusive, to the microsecond (window_hour_ab: 1 hour)
    log.add(1, "2026-10-10T10:00:00", "a", "in")
    log.add(1, "2026-10-10T11:00:00", "b", "in")
    log.add(1, "2026-10-10T10:00:00", "a", "out")
    log.add(1, "2026-10-10T11:00:00.000001", "b", "out")
    # a later step-1 event starts a new attempt (and takes over: it started later)
    log.add(1, "2026-10-10T10:00:00", "a", "restart")
    log.add(1, "2026-10-10T10:50:00", "a", "restart")
    log.add(1, "2026-10-10T11:30:00", "b", "restart")
    # equal timestamps: steps in step order, whatever landed first and whatever the uuids
    log.add(1, "2026-10-10T12:00:00", "b", "tie_b_first", uuid_number=1)
    log.add(1, "2026-10-10T12:00:00", "a", "tie_b_first", uuid_number=2)
    log.add(1, "2026-10-10T12:00:00", "a", "tie_a_first", uuid_number=4)
    log.add(1, "2026-10-10T12:00:00", "b", "tie_a_first", uuid_number=3)
    # the furthest step, with the attempt that reached it first (ordered_persons: a → b → c, 1 h)
    log.add(1, "2026-10-10T13:00:00", "a", "first")
    log.add(1, "2026-10-10T13:10:00", "b", "first")
    log.add(1, "2026-10-10T13:20:00", "a", "first")
    log.add(1, "2026-10-10T13:25:00", "b", "first")
    log.add(1, "2026-10-10T14:00:00", "a", "far")
    log.add(1, "2026-10-10T14:10:00", "b", "far")
    log.add(1, "2026-10-10T14:30:00", "a", "far")
    log.add(1, "2026-10-10T14:40:00", "b", "far")
    log.add(1, "2026-10-10T15:20:00", "c", "far")
    # strict (strict_persons: a → b → c, 2 h)
    for minute, name in enumerate(["a", "b", "c"]):
        log.add(1, f"2026-10-10T16:0{minute}:00", name, "strict_ok")
    for minute, name in enumerate(["a", "other", "b"]):
        log.add(1, f"2026-10-10T16:0{minute}:00", name, "strict_broken")
    for minute, name in enumerate(["a", "b", "b", "c"]):
        log.add(1, f"2026-10-10T16:0{minute}:00", name, "strict_repeat")
    log.add(1, "2026-10-10T16:00:00", "a", "strict_tie")
    log.add(1, "2026-10-10T16:05:00", "other", "strict_tie")
    log.add(1, "2026-10-10T16:05:00", "b", "strict_tie")
    # exclusions (exclusion_first_gap: x between a and b)
    for minute, name in enumerate(["a", "x", "b", "c"]):
        log.add(1, f"2026-10-10T17:0{minute}:00", name, "excluded")
    for minute, name in enumerate(["a", "x", "a", "b", "c"]):
        log.add(1, f"2026-10-10T17:0{minute}:00", name, "excluded_then_clean")
    for minute, name in enumerate(["a", "b", "x", "c"]):
        log.add(1, f"2026-10-10T17:0{minute}:00", name, "excluded_too_late")
    log.add(1, "2026-10-10T17:00:00", "x", "exclusion_with_a", uuid_number=10)
    log.add(1, "2026-10-10T17:00:00", "a", "exclusion_with_a", uuid_number=11)
    log.add(1, "2026-10-10T17:01:00", "b", "exclusion_with_a")
    log.add(1, "2026-10-10T17:00:00", "a", "exclusion_with_b")
    log.add(1, "2026-10-10T17:01:00", "b", "exclusion_with_b", uuid_number=12)
    log.add(1, "2026-10-10T17:01:00", "x", "exclusion_with_b", uuid_number=13)
    # group aggregation: three people, one company; one person, two companies; no company
    log.add(1, "2026-10-10T18:00:00", "a", "alice", {company: "acme"})
    log.add(1, "2026-10-10T18:10:00", "b", "bob", {company: "acme"})
    log.add(1, "2026-10-10T18:20:00", "c", "carol", {company: "acme"})
    log.add(1, "2026-10-10T18:00:00", "a", "dual", {company: "initech"})
    log.add(1, "2026-10-10T18:10:00", "b", "dual", {company: "globex"})
    log.add(1, "2026-10-10T18:20:00", "c", "dual", {company: "globex"})
    log.add(1, "2026-10-10T18:00:00", "a", "nobody", {company: ""})
    # one event fills one step (repeated_step: a → a → b by company)
    log.add(1, "2026-10-10T19:00:00", "a", "solo", {company: "solo"})
    log.add(1, "2026-10-10T19:10:00", "b", "solo", {company: "solo"})
    log.add(1, "2026-10-10T19:00:00", "a", "pair1", {company: "pair"})
    log.add(1, "2026-10-10T19:00:00", "a", "pair2", {company: "pair"})
    log.add(1, "2026-10-10T19:10:00", "b", "pair1", {company: "pair"})
    # unordered (unordered_groups: a, b, c any order, 1 h, x cuts)
    log.add(1, "2026-10-10T20:00:00", "c", "u1", {company: "any_order"})
    log.add(1, "2026-10-10T20:10:00", "a", "u2", {company: "any_order"})
    log.add(1, "2026-10-10T20:20:00", "b", "u3", {company: "any_order"})
    log.add(1, "2026-10-10T20:00:00", "c", "u1", {company: "cut"})
    log.add(1, "2026-10-10T20:10:00", "x", "u2", {company: "cut"})
    log.add(1, "2026-10-10T20:20:00", "a", "u3", {company: "cut"})
    log.add(1, "2026-10-10T20:30:00", "b", "u3", {company: "cut"})
    # breakdowns (breakdown_all_events: one funnel per plan value)
    log.add(1, "2026-10-10T21:00:00", "a", "two_plans", properties={"plan": "pro"})
    log.add(1, "2026-10-10T21:10:00", "b", "two_plans", properties={"plan": "pro"})
    log.add(1, "2026-10-10T21:20:00", "a", "two_plans", properties={"plan": "free"})
    # filters: person, group and event properties
    log.identify_group(1, "2026-10-01T00:00:00", company, "acme", {"industry": "software"})
    log.identify_group(1, "2026-10-01T00:00:00", company, "initech", {"industry": "retail"})
    log.add(
        1,
        "2026-10-10T22:00:00",
        "a",
        "admin",
        {company: "acme"},
        {"plan": "pro"},
        person_set={"role": "admin"},
    )
    log.add(1, "2026-10-10T22:10:00", "b", "admin", {company: "acme"})
    # -- project 2 (Europe/Berlin, UTC+2): the range is local, and every step must lie in it ------
    log.add(2, "2026-10-09T21:59:59.999999", "a", "before_range")
    log.add(2, "2026-10-09T22:10:00", "b", "before_range")
    log.add(2, "2026-10-09T22:00:00", "a", "range_start")
    log.add(2, "2026-10-09T22:10:00", "b", "range_start")
    log.add(2, "2026-10-11T21:30:00", "a", "range_end")
    log.add(2, "2026-10-11T21:59:59.999999", "b", "range_end")
    log.add(2, "2026-10-11T21:30:00", "a", "after_range")
    log.add(2, "2026-10-11T22:00:00", "b", "after_range")
    return log.events


@pytest.fixture(scope="module")
def story_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Marts, OracleWorld]]:
    events = story_events()
    timezones = {1: "UTC", 2: "Europe/Berlin"}
    paths = write_lake(tmp_path_factory.mktemp("funnel-stories"), timezones, events)
    database = build_insight_marts(paths, FUNNELS, RUN_DATE, with_tests=True)
    marts = Marts.open(database)
    yield marts, world_from_truth(events, timezones, RUN_DATE)
    marts.close()


@pytest.mark.parametrize("insight_id", sorted(FUNNELS))
def test_every_funnel_matches_the_oracle_on_the_stories(
    story_world: tuple[Marts, OracleWorld], insight_id: str
) -> None:
    marts, world = story_world
    for project_id in world.timezones:
        check_funnel(marts, world, insight_id, FUNNELS[insight_id], project_id)


def test_window_end_is_inclusive_to_the_microsecond(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    assert actor_row(marts, "window_hour_ab", 1, "in") == (
        2,
        [at("2026-10-10T10:00"), at("2026-10-10T11:00")],
    )
    assert actor_row(marts, "window_hour_ab", 1, "out") == (1, [at("2026-10-10T10:00")])


def test_a_later_first_step_starts_a_new_attempt(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    assert actor_row(marts, "window_hour_ab", 1, "restart") == (
        2,
        [at("2026-10-10T10:50"), at("2026-10-10T11:30")],
    )


def test_equal_timestamps_fill_steps_in_step_order_whatever_landed_first(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    noon = at("2026-10-10T12:00")
    assert actor_row(marts, "window_hour_ab", 1, "tie_b_first") == (2, [noon, noon])
    assert actor_row(marts, "window_hour_ab", 1, "tie_a_first") == (2, [noon, noon])


def test_the_furthest_step_keeps_the_attempt_that_got_there_first(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "ordered_persons", 1, "first") == (
        2,
        [at("2026-10-10T13:00"), at("2026-10-10T13:10")],
    )
    # the first attempt's c comes 80 minutes after its a; the second attempt's only 50
    assert actor_row(marts, "ordered_persons", 1, "far") == (
        3,
        [at("2026-10-10T14:30"), at("2026-10-10T14:40"), at("2026-10-10T15:20")],
    )


def test_strict_funnels_break_on_any_other_event_but_not_on_repeats_or_ties(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "strict_persons", 1, "strict_ok")[0] == 3  # type: ignore[index]
    assert actor_row(marts, "strict_persons", 1, "strict_broken")[0] == 1  # type: ignore[index]
    assert actor_row(marts, "strict_persons", 1, "strict_repeat")[0] == 3  # type: ignore[index]
    assert actor_row(marts, "strict_persons", 1, "strict_tie")[0] == 2  # type: ignore[index]
    assert actor_row(marts, "ordered_persons", 1, "strict_broken")[0] == 2  # type: ignore[index]


def test_an_exclusion_between_the_steps_it_names_voids_the_attempt(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "exclusion_first_gap", 1, "excluded") is None  # dropped from the funnel
    assert actor_row(marts, "ordered_persons", 1, "excluded")[0] == 3  # type: ignore[index]
    assert actor_row(marts, "exclusion_first_gap", 1, "excluded_then_clean") == (
        3,
        [at("2026-10-10T17:02"), at("2026-10-10T17:03"), at("2026-10-10T17:04")],
    )
    assert actor_row(marts, "exclusion_first_gap", 1, "excluded_too_late")[0] == 3  # type: ignore[index]
    # equal timestamps: the exclusion comes first — before step 1 it does nothing, with step 2 it voids
    assert actor_row(marts, "exclusion_first_gap", 1, "exclusion_with_a")[0] == 2  # type: ignore[index]
    assert actor_row(marts, "exclusion_first_gap", 1, "exclusion_with_b") is None


def test_groups_aggregate_their_people_and_a_person_drives_each_of_its_groups(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "ordered_groups", 1, "acme")[0] == 3  # type: ignore[index]
    assert actor_row(marts, "ordered_groups", 1, "initech")[0] == 1  # type: ignore[index]
    assert actor_row(marts, "ordered_groups", 1, "globex") is None  # no step 1 in globex
    groups = {actor for _, actor in read_funnel(marts, "ordered_groups", 1).actors}
    assert "" not in groups


def test_one_event_fills_at_most_one_step_of_an_attempt(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    assert actor_row(marts, "repeated_step", 1, "solo")[0] == 1  # type: ignore[index]
    seven = at("2026-10-10T19:00")
    assert actor_row(marts, "repeated_step", 1, "pair") == (3, [seven, seven, at("2026-10-10T19:10")])


def test_unordered_funnels_take_steps_in_any_order_and_exclusions_cut_the_window(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "unordered_groups", 1, "any_order") == (
        3,
        [at("2026-10-10T20:00"), at("2026-10-10T20:10"), at("2026-10-10T20:20")],
    )
    # c then x: the window from c is cut before a and b; the window from a gets a and b
    assert actor_row(marts, "unordered_groups", 1, "cut") == (
        2,
        [at("2026-10-10T20:20"), at("2026-10-10T20:30")],
    )


def test_every_step_lies_in_the_local_date_range(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    assert actor_row(marts, "window_hour_ab", 2, "before_range") is None
    assert actor_row(marts, "window_hour_ab", 2, "range_start")[0] == 2  # type: ignore[index]
    assert actor_row(marts, "window_hour_ab", 2, "range_end")[0] == 2  # type: ignore[index]
    assert actor_row(marts, "window_hour_ab", 2, "after_range")[0] == 1  # type: ignore[index]


def test_all_events_attribution_runs_one_funnel_per_breakdown_value(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    assert actor_row(marts, "breakdown_all_events", 1, "two_plans", "pro")[0] == 2  # type: ignore[index]
    assert actor_row(marts, "breakdown_all_events", 1, "two_plans", "free")[0] == 1  # type: ignore[index]
    assert actor_row(marts, "breakdown_first_touch", 1, "acme", "$$_posthog_breakdown_null_$$") is not None


def test_step_filters_read_event_person_and_group_properties(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    actors = read_funnel(marts, "filtered_steps", 1).actors
    assert {actor: row.furthest_step for (_, actor), row in actors.items()} == {person_id_for(1, "admin"): 2}


def test_drop_offs_and_conversion_rates_follow_the_step_counts(
    story_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = story_world
    rows = marts.connection.execute(
        "select step_number, actor_count, dropped_off_count, conversion_rate_from_previous, conversion_rate_from_first "
        "from marts.mart_insight_funnel_steps where insight_id = 'ordered_persons' and project_id = 1 "
        "order by step_number"
    ).fetchall()
    counts = [row[1] for row in rows]
    assert counts[0] > counts[1] > counts[2] > 0
    assert [row[2] for row in rows] == [0, counts[0] - counts[1], counts[1] - counts[2]]
    assert rows[1][3] == pytest.approx(counts[1] / counts[0]) and rows[2][4] == pytest.approx(
        counts[2] / counts[0]
    )
    dropped = marts.connection.execute(
        "select count(*) from marts.mart_insight_funnel_actors "
        "where insight_id = 'ordered_persons' and project_id = 1 and dropped_off_at_step = 2"
    ).fetchone()
    assert dropped == (counts[0] - counts[1],)


def test_the_json_response_has_posthogs_funnel_shape(story_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = story_world
    definition = json.loads(
        marts.connection.execute(
            "select definition from marts.mart_insights where insight_id = 'ordered_persons' and project_id = 1"
        ).fetchone()[0]  # type: ignore[index]
    )
    steps = funnel_results(marts.connection, "ordered_persons", 1, definition)
    assert [step["order"] for step in steps] == [0, 1, 2]
    assert [step["name"] for step in steps] == ["a", "b", "c"]
    assert steps[0]["average_conversion_time"] is None and steps[1]["median_conversion_time"] > 0
    assert set(steps[0]) >= {"action_id", "name", "custom_name", "order", "people", "count", "type",
                             "average_conversion_time", "median_conversion_time"}  # fmt: skip
    definition = json.loads(
        marts.connection.execute(
            "select definition from marts.mart_insights where insight_id = 'breakdown_other' and project_id = 1"
        ).fetchone()[0]  # type: ignore[index]
    )
    lines = funnel_results(marts.connection, "breakdown_other", 1, definition)
    assert all(isinstance(line, list) and len(line) == 2 for line in lines)
    assert all(step["breakdown"] == step["breakdown_value"] for line in lines for step in line)
    unordered = json.loads(
        marts.connection.execute(
            "select definition from marts.mart_insights where insight_id = 'unordered_groups' and project_id = 1"
        ).fetchone()[0]  # type: ignore[index]
    )
    names = [step["name"] for step in funnel_results(marts.connection, "unordered_groups", 1, unordered)]
    assert names == ["Completed 1 step", "Completed 2 steps", "Completed 3 steps"]


# ------------------------------------------------------------------------------------------------
# World 2: hypothesis
# ------------------------------------------------------------------------------------------------
START = datetime(2026, 10, 10, 9, tzinfo=UTC)
#: Offsets around the funnels' windows (30 min, 1 h, 1.5 h, 2 h) and the range's edges.
GRID_MINUTES = [0, 5, 30, 60, 90]
RANGE_EDGES = [
    datetime(2026, 10, 9, 22, tzinfo=UTC),  # Berlin midnight, 10 Oct
    datetime(2026, 10, 11, 22, tzinfo=UTC),  # Berlin midnight, 12 Oct
    datetime(2026, 10, 10, 4, tzinfo=UTC),  # New York midnight, 10 Oct
    datetime(2026, 10, 9, 18, 30, tzinfo=UTC),  # Kolkata midnight, 10 Oct
]


@st.composite
def event_time(draw: st.DrawFn) -> datetime:
    if draw(st.integers(0, 9)) == 0:
        base = draw(st.sampled_from(RANGE_EDGES))
    else:
        base = START + timedelta(minutes=draw(st.sampled_from(GRID_MINUTES)) + 120 * draw(st.integers(0, 1)))
    return base + timedelta(microseconds=draw(st.sampled_from([0, 0, 0, 1, -1])))


@st.composite
def project_events(draw: st.DrawFn, project_id: int) -> list[dict[str, Any]]:
    # the first sighting fixes the type indices (company 0, team 1: project 1 declares them so)
    rows: list[dict[str, Any]] = [
        {"project_id": project_id, "at": START - timedelta(days=3), "event": "other", "distinct_id": "p0",
         "groups": {"company": "c0", "team": "t0"}, "properties": {}, "person_set": None}
    ]  # fmt: skip
    for _ in range(draw(st.integers(10, 40))):
        groups: dict[str, str] = {}
        company = draw(st.sampled_from(["c0", "c1", "c0", "c1", "", None]))
        if company is not None:
            groups["company"] = company
        team = draw(st.sampled_from(["t0", "t1", None]))
        if team is not None:
            groups["team"] = team
        plan = draw(st.sampled_from(["free", "pro", "team", None]))
        rows.append(
            {
                "project_id": project_id,
                "at": draw(event_time()),
                "event": draw(st.sampled_from(["a", "a", "b", "b", "c", "x", "other"])),
                "distinct_id": draw(st.sampled_from(["p0", "p1"])),
                "groups": groups,
                "properties": {} if plan is None else {"plan": plan},
                "person_set": draw(st.sampled_from([None, None, {"role": "admin"}])),
            }
        )
    for key, industry in draw(
        st.lists(
            st.tuples(st.sampled_from(["c0", "c1", "c2"]), st.sampled_from(["retail", "software"])),
            max_size=2,
        )
    ):
        rows.append({"project_id": project_id, "identify": (key, industry)})
    return rows


def _truth(rows: list[dict[str, Any]]) -> list[TruthEvent]:
    log = EventLog()
    for row in rows:
        if "identify" in row:
            key, industry = row["identify"]
            log.identify_group(
                row["project_id"], "2026-10-01T00:00:00", "company", key, {"industry": industry}
            )
        else:
            log.add(row["project_id"], row["at"], row["event"], row["distinct_id"], row["groups"], row["properties"],
                    row["person_set"])  # fmt: skip
    return log.events


@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(worlds=st.tuples(*(project_events(project_id) for project_id in range(1, 9))))
def test_generated_event_sets_give_the_oracle_funnels(
    tmp_path_factory: pytest.TempPathFactory, worlds: tuple[list[dict[str, Any]], ...]
) -> None:
    events = _truth([row for world in worlds for row in world])
    timezones = {project_id: TIMEZONES[(project_id - 1) % len(TIMEZONES)] for project_id in range(1, 9)}
    paths = write_lake(tmp_path_factory.mktemp("funnel-hypothesis"), timezones, events)
    marts = Marts.open(build_insight_marts(paths, FUNNELS, RUN_DATE))
    world = world_from_truth(events, timezones, RUN_DATE)
    try:
        for insight_id, document in sorted(FUNNELS.items()):
            for project_id in timezones:
                check_funnel(marts, world, insight_id, document, project_id)
    finally:
        marts.close()


# ------------------------------------------------------------------------------------------------
# World 3: the seeded generator's sample and the shipped funnels
# ------------------------------------------------------------------------------------------------
def test_shipped_funnels_match_the_oracle_on_a_generated_sample(tmp_path: Path) -> None:
    from gw.config import warehouse_paths
    from gw.generator import GeneratorSettings, generate
    from gw.insights.compile import DEFAULT_INSIGHTS_DIR, insight_files
    from gw.pipeline import land

    paths = warehouse_paths(tmp_path / "home").ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, GeneratorSettings(events=3_000, groups=8, persons=30, days=35, seed=5))
    land(paths)
    documents = {path.stem: yaml.safe_load(path.read_text()) for path in insight_files(DEFAULT_INSIGHTS_DIR)}
    funnels = {key: doc for key, doc in documents.items() if query_of(doc)["kind"] == "FunnelsQuery"}
    assert len(funnels) >= 5
    run_date: date = sample.end_date()
    marts = Marts.open(build_insight_marts(paths, funnels, run_date))
    timezones = {project.id: project.timezone for project in paths.load_projects().projects}
    world = world_from_truth(sample.events, timezones, run_date)
    try:
        reached = 0
        for insight_id, document in sorted(funnels.items()):
            for project_id in timezones:
                check_funnel(marts, world, insight_id, document, project_id)
                reached += len(read_funnel(marts, insight_id, project_id).actors)
        assert reached > 0
    finally:
        marts.close()
