"""The insight oracle pinned on tiny hand-counted worlds (PostHog's semantics, no warehouse)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.oracle.insights import (
    OracleEvent,
    OracleWorld,
    lifecycle,
    resolve_date_range,
    retention,
    stickiness,
    trends,
)

_numbers = itertools.count()
RUN = date(2026, 11, 4)  # a Wednesday


def _event(
    at: str, actor: str = "p1", event: str = "$pageview", company: str = "", **props: Any
) -> OracleEvent:
    return OracleEvent(
        uuid=f"u{next(_numbers)}",
        project_id=1,
        event=event,
        timestamp=datetime.fromisoformat(at).replace(tzinfo=UTC),
        properties=props,
        person_id=actor,
        groups={0: company} if company else {},
    )


def _world(*events: OracleEvent, zone: str = "Europe/Berlin", **dims: Any) -> OracleWorld:
    return OracleWorld(events=list(events), timezones={1: zone}, run_date=RUN, **dims)


@pytest.mark.parametrize(
    ("date_range", "interval", "expected"),
    [
        (None, "day", (datetime(2026, 10, 28), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "-7d"}, "day", (datetime(2026, 10, 28), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "mStart"}, "day", (datetime(2026, 11, 1), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "-1mStart", "date_to": "-1mEnd"}, "day", (datetime(2026, 10, 1), datetime(2026, 10, 31, 23, 59, 59, 999999))),
        ({"date_from": "yStart"}, "month", (datetime(2026, 1, 1), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "-24h"}, "hour", (datetime(2026, 11, 3, 23), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "-2h", "date_to": "-1h"}, "hour", (datetime(2026, 11, 4, 21), datetime(2026, 11, 4, 22, 59, 59, 999999))),
        ({"date_from": "2026-10-01T13:00:00Z", "date_to": "2026-10-02T00:00:00Z"}, "hour", (datetime(2026, 10, 1), datetime(2026, 10, 2, 23, 59, 59, 999999))),
        ({"date_from": "-1y"}, "month", (datetime(2025, 11, 4), datetime(2026, 11, 4, 23, 59, 59, 999999))),
        ({"date_from": "all"}, "day", (None, datetime(2026, 11, 4, 23, 59, 59, 999999))),
    ],
)  # fmt: skip
def test_dates_resolve_against_the_run_date_like_posthogs_query_date_range(
    date_range: dict[str, str] | None, interval: str, expected: tuple[datetime | None, datetime]
) -> None:
    assert resolve_date_range(date_range, interval, RUN) == expected


def test_a_month_back_from_the_31st_clamps_to_the_shorter_month() -> None:
    assert resolve_date_range({"date_from": "-1m"}, "day", date(2026, 3, 31))[0] == datetime(2026, 2, 28)


def test_hourly_trends_have_25_hours_on_the_day_dst_ends() -> None:
    world = _world(_event("2026-10-25T00:30:00"), _event("2026-10-25T01:30:00"))
    answer = trends(world, {"series": [{"event": None}], "interval": "hour",
                            "dateRange": {"date_from": "2026-10-25", "date_to": "2026-10-25"}}, 1)  # fmt: skip
    assert len(answer.starts) == 25
    assert [local.hour for local, _ in answer.starts[:4]] == [0, 1, 2, 2]
    assert answer.lines[(0, None)][2:4] == [1, 1]


def test_weekly_active_counts_the_day_and_the_six_before_and_turns_into_dau_for_weeks() -> None:
    world = _world(_event("2026-10-19T10:00:00", "a"), _event("2026-10-26T10:00:00", "b"))
    query = {"series": [{"event": None, "math": "weekly_active"}],
             "dateRange": {"date_from": "2026-10-25", "date_to": "2026-10-27"}}  # fmt: skip
    # 25 Oct: a (19th is 6 days back); 26 Oct: a is 7 days back (out), b in; 27 Oct: b
    assert trends(world, query, 1).lines[(0, None)] == [1, 1, 1]
    weekly = trends(world, {**query, "interval": "week"}, 1)
    assert weekly.lines[(0, None)] == [1]  # dau over the week from date_from (Sunday 25th): b only


def test_filters_follow_hogql_null_rules() -> None:
    world = _world(_event("2026-11-01T10:00:00", path="/a"), _event("2026-11-01T11:00:00"))

    def count(*properties: dict[str, Any]) -> int:
        query = {"series": [{"event": None}], "dateRange": {"date_from": "2026-11-01", "date_to": "2026-11-01"},
                 "properties": list(properties)}  # fmt: skip
        return trends(world, query, 1).lines[(0, None)][0]

    assert count({"type": "event", "key": "path", "value": "/a"}) == 1
    assert (
        count({"type": "event", "key": "path", "operator": "is_not", "value": "/a"}) == 1
    )  # the missing one
    assert count({"type": "event", "key": "path", "operator": "not_icontains", "value": "A"}) == 1
    assert count({"type": "event", "key": "path", "operator": "is_set"}) == 1
    assert count({"type": "event", "key": "path", "operator": "gt", "value": 0}) == 0


def test_breakdown_keeps_the_top_values_ranks_missing_last_and_sums_the_rest_into_other() -> None:
    world = _world(
        *[_event("2026-11-01T10:00:00", plan=p) for p in ["pro", "pro", "free", "team", None, None, None]]
    )
    query = {"series": [{"event": None}], "dateRange": {"date_from": "2026-11-01", "date_to": "2026-11-01"},
             "breakdownFilter": {"breakdown": "plan", "breakdown_limit": 2}}  # fmt: skip
    assert trends(world, query, 1).lines == {
        (0, "pro"): [2],
        (0, "free"): [1],  # ties break by value: free before team
        (0, "$$_posthog_breakdown_other_$$"): [4],  # team + the 3 missing, ranked last
    }


def test_stickiness_counts_actors_by_active_days() -> None:
    world = _world(
        _event("2026-11-01T10:00:00", "a"),
        _event("2026-11-02T10:00:00", "a"),
        _event("2026-11-02T11:00:00", "b"),
    )
    query = {"series": [{"event": None}], "dateRange": {"date_from": "2026-11-01", "date_to": "2026-11-03"}}
    assert stickiness(world, query, 1).counts == {0: [1, 1, 0]}


def test_lifecycle_statuses_with_the_period_before_date_from() -> None:
    created = {
        (1, 0, "acme"): datetime(2026, 11, 2, 9, tzinfo=UTC),
        (1, 0, "old"): datetime(2026, 1, 1, tzinfo=UTC),
    }
    world = _world(
        _event("2026-10-31T10:00:00", company="old"),  # before date_from: makes Nov 1 "returning"
        _event("2026-11-01T10:00:00", company="old"),
        _event("2026-11-02T10:00:00", company="acme"),
        _event("2026-11-04T10:00:00", company="old"),
        group_created_at=created,
    )
    query = {"series": [{"event": None}], "aggregation_group_type_index": 0,
             "dateRange": {"date_from": "2026-11-01", "date_to": "2026-11-04"}}  # fmt: skip
    assert lifecycle(world, query, 1).values == {
        "new": [0, 1, 0, 0],
        "returning": [1, 0, 0, 0],
        "resurrecting": [0, 0, 0, 1],
        "dormant": [0, -1, -1, 0],
    }


def test_retention_recurring_and_first_time() -> None:
    world = _world(
        _event("2026-10-20T10:00:00", "a"),  # a's first time, before the range
        _event("2026-11-02T10:00:00", "a"),
        _event("2026-11-03T10:00:00", "a"),
        _event("2026-11-02T10:00:00", "b"),
        _event("2026-11-04T10:00:00", "b"),
    )
    query = {"retentionFilter": {"period": "Day", "totalIntervals": 3}}
    assert retention(world, query, 1).table == [[2, 1, 1], [1, 0, 0], [1, 0, 0]]
    first_time = {"retentionFilter": {**query["retentionFilter"], "retentionType": "retention_first_time"}}
    assert retention(world, first_time, 1).table == [[1, 0, 1], [0, 0, 0], [0, 0, 0]]
