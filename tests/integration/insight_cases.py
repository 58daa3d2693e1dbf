"""The insights the oracle tests build: every supported math, interval, operator, breakdown and kind.

Dates are absolute around the autumn 2026 DST changes (Europe/Berlin: Sunday 25 October;
America/New_York: Sunday 1 November; Australia/Sydney starts DST on Sunday 4 October) unless the
case is about relative dates. Run date: :data:`RUN_DATE`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

RUN_DATE = date(2026, 11, 3)

TIMEZONES = {
    1: "Europe/Berlin",
    2: "America/New_York",
    3: "Australia/Sydney",
    4: "UTC",
}

DAYS = {"date_from": "2026-10-20", "date_to": "2026-11-02"}
DST_BERLIN = {"date_from": "2026-10-24", "date_to": "2026-10-25"}
DST_NEW_YORK = {"date_from": "2026-10-31T00:00:00Z", "date_to": "2026-11-01"}


def _series(event: str | None = "$pageview", **fields: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": event, "name": event or "All events", **fields}


def _trends(
    series: list[dict[str, Any]], interval: str = "day", date_range: dict | None = None, **fields: Any
) -> dict:
    return {
        "kind": "TrendsQuery",
        "series": series,
        "interval": interval,
        "dateRange": date_range or DAYS,
        **fields,
    }


def _filter(kind: str, key: str, operator: str, value: Any = None, **fields: Any) -> dict[str, Any]:
    found = {"type": kind, "key": key, "operator": operator, **fields}
    if value is not None:
        found["value"] = value
    return found


TRENDS: dict[str, dict[str, Any]] = {
    # maths
    "trend_total_day": _trends([_series()]),
    "trend_all_events_total": _trends([_series(None)]),
    "trend_two_series": _trends(
        [
            _series("$pageview", math="dau"),
            _series("insight_viewed", math="unique_group", math_group_type_index=0),
        ]
    ),
    "trend_dau_groups": _trends([_series(None, math="dau", math_group_type_index=1)]),
    "trend_weekly_active_groups": _trends([_series(None, math="weekly_active", math_group_type_index=0)]),
    "trend_monthly_active_persons": _trends([_series(None, math="monthly_active")]),
    # intervals and time zones
    "trend_hour_dst_berlin": _trends([_series(None)], "hour", DST_BERLIN),
    "trend_hour_dst_new_york": _trends([_series(None, math="dau")], "hour", DST_NEW_YORK),
    "trend_hour_weekly_active": _trends(
        [_series(None, math="weekly_active", math_group_type_index=0)],
        "hour",
        {"date_from": "2026-10-25", "date_to": "2026-10-25"},
    ),
    "trend_week_relative": _trends(
        [_series(None, math="unique_group", math_group_type_index=0)], "week", {"date_from": "-3w"}
    ),
    "trend_week_weekly_active_is_dau": _trends(
        [_series(None, math="weekly_active")], "week", {"date_from": "-4w"}
    ),
    "trend_month_from_mid_month": _trends(
        [_series(None, math="total")], "month", {"date_from": "2026-09-15", "date_to": "2026-11-02"}
    ),
    "trend_month_monthly_active_is_dau": _trends(
        [_series(None, math="monthly_active", math_group_type_index=0)], "month", {"date_from": "-2mStart"}
    ),
    "trend_relative_days": _trends(
        [_series(None, math="dau")], "day", {"date_from": "-10d", "date_to": "-1d"}
    ),
    "trend_all_time": _trends([_series(None)], "week", {"date_from": "all"}),
    # filters: one operator each, on event, person and group properties
    "filter_exact": _trends([_series(None)], properties=[_filter("event", "path", "exact", "/a")]),
    "filter_exact_list": _trends(
        [_series(None)], properties=[_filter("event", "path", "exact", ["/a", "/A"])]
    ),
    "filter_is_not": _trends(
        [_series(None)], properties=[_filter("event", "path", "is_not", ["/a", "/b/x"])]
    ),
    "filter_icontains": _trends([_series(None)], properties=[_filter("event", "path", "icontains", "A")]),
    "filter_not_icontains": _trends(
        [_series(None)], properties=[_filter("event", "path", "not_icontains", "b/")]
    ),
    "filter_regex": _trends([_series(None)], properties=[_filter("event", "path", "regex", "^/[ab]")]),
    "filter_not_regex": _trends([_series(None)], properties=[_filter("event", "path", "not_regex", "x$")]),
    "filter_gt": _trends([_series(None)], properties=[_filter("event", "amount", "gt", 6)]),
    "filter_lt": _trends([_series(None)], properties=[_filter("event", "amount", "lt", "6")]),
    "filter_gte_lte": _trends(
        [_series(None)],
        properties=[_filter("event", "amount", "gte", 6), _filter("event", "amount", "lte", 12)],
    ),
    "filter_is_set": _trends([_series(None)], properties=[_filter("event", "amount", "is_set")]),
    "filter_is_not_set": _trends([_series(None)], properties=[_filter("event", "amount", "is_not_set")]),
    "filter_boolean": _trends([_series(None)], properties=[_filter("event", "beta", "exact", True)]),
    "filter_person": _trends(
        [_series(None, math="dau")], properties=[_filter("person", "role", "exact", "admin")]
    ),
    "filter_person_is_not": _trends(
        [_series(None)], properties=[_filter("person", "role", "is_not", "admin")]
    ),
    "filter_group": _trends(
        [_series(None)], properties=[_filter("group", "plan", "exact", "pro", group_type_index=0)]
    ),
    "filter_group_is_not": _trends(
        [_series(None, math="unique_group", math_group_type_index=0)],
        properties=[_filter("group", "plan", "is_not", "free", group_type_index=0)],
    ),
    "filter_group_key": _trends([_series(None)], properties=[_filter("event", "$group_1", "is_set")]),
    "filter_series_and_or": _trends(
        [
            _series(
                None,
                properties=[_filter("event", "path", "icontains", "/")],
            )
        ],
        properties={
            "type": "AND",
            "values": [
                {
                    "type": "OR",
                    "values": [
                        _filter("event", "amount", "gt", 10),
                        _filter("group", "plan", "exact", "pro", group_type_index=0),
                    ],
                }
            ],
        },
    ),
    # breakdowns
    "breakdown_event_other": _trends(
        [_series(None)],
        breakdownFilter={"breakdown": "path", "breakdown_type": "event", "breakdown_limit": 2},
    ),
    "breakdown_event_hide_other": _trends(
        [_series(None, math="dau")],
        breakdownFilter={"breakdown": "path", "breakdown_limit": 1, "breakdown_hide_other_aggregation": True},
    ),
    "breakdown_person": _trends(
        [_series(None, math="dau")], breakdownFilter={"breakdown": "role", "breakdown_type": "person"}
    ),
    "breakdown_group": _trends(
        [_series(None, math="unique_group", math_group_type_index=0), _series("insight_viewed")],
        breakdownFilter={"breakdown": "plan", "breakdown_type": "group", "breakdown_group_type_index": 0},
    ),
    "breakdown_group_key": _trends(
        [_series(None, math="weekly_active")],
        breakdownFilter={"breakdown": "$group_0", "breakdown_type": "event"},
    ),
}

# the documented option: group properties as they were when the event happened
AS_OF_EVENT: dict[str, dict[str, Any]] = {
    "filter_group_as_of_event": {
        "group_properties": "as_of_event",
        **_trends([_series(None)], properties=[_filter("group", "plan", "exact", "pro", group_type_index=0)]),
    },
    "breakdown_group_as_of_event": {
        "group_properties": "as_of_event",
        **_trends(
            [_series(None)],
            breakdownFilter={"breakdown": "plan", "breakdown_type": "group", "breakdown_group_type_index": 0},
        ),
    },
}
TRENDS.update(AS_OF_EVENT)

STICKINESS: dict[str, dict[str, Any]] = {
    "stickiness_persons_day": {
        "kind": "StickinessQuery",
        "series": [_series(None)],
        "interval": "day",
        "dateRange": DAYS,
    },
    "stickiness_groups_week": {
        "kind": "StickinessQuery",
        "series": [_series(None, math="unique_group", math_group_type_index=0), _series("insight_viewed")],
        "interval": "week",
        "dateRange": {"date_from": "-5w"},
        "stickinessFilter": {"computedAs": "cumulative"},
    },
    "stickiness_hour": {
        "kind": "StickinessQuery",
        "series": [_series(None, math="unique_group", math_group_type_index=1)],
        "interval": "hour",
        "dateRange": DST_BERLIN,
        "properties": [_filter("event", "path", "is_set")],
    },
}

LIFECYCLE: dict[str, dict[str, Any]] = {
    "lifecycle_groups_day": {
        "kind": "LifecycleQuery",
        "series": [_series(None)],
        "interval": "day",
        "dateRange": DAYS,
        "aggregation_group_type_index": 0,
    },
    "lifecycle_persons_week": {
        "kind": "LifecycleQuery",
        "series": [_series("$pageview")],
        "interval": "week",
        "dateRange": {"date_from": "-5w"},
    },
    "lifecycle_groups_month": {
        "kind": "LifecycleQuery",
        "series": [_series(None)],
        "interval": "month",
        "dateRange": {"date_from": "2026-10-01", "date_to": "2026-11-30"},
        "aggregation_group_type_index": 1,
    },
    "lifecycle_hour_dst": {
        "kind": "LifecycleQuery",
        "series": [_series(None, properties=[_filter("person", "role", "is_set")])],
        "interval": "hour",
        "dateRange": DST_BERLIN,
    },
}

RETENTION: dict[str, dict[str, Any]] = {
    "retention_groups_week": {
        "kind": "RetentionQuery",
        "aggregation_group_type_index": 0,
        "retentionFilter": {"period": "Week", "totalIntervals": 4, "retentionType": "retention_recurring"},
    },
    "retention_first_time_day": {
        "kind": "RetentionQuery",
        "dateRange": {"date_to": "2026-10-28"},
        "retentionFilter": {
            "period": "Day",
            "totalIntervals": 6,
            "retentionType": "retention_first_time",
            "targetEntity": {"id": None, "type": "events"},
            "returningEntity": {"id": "insight_viewed", "type": "events"},
        },
    },
    "retention_month_from": {
        "kind": "RetentionQuery",
        "aggregation_group_type_index": 1,
        "dateRange": {"date_from": "2026-09-01", "date_to": "2026-11-02"},
        "retentionFilter": {
            "period": "Month",
            "totalIntervals": 3,
            "targetEntity": {"id": None, "type": "events"},
            "returningEntity": {"id": None, "type": "events"},
        },
    },
    "retention_filtered_day": {
        "kind": "RetentionQuery",
        "dateRange": {"date_from": "2026-10-22", "date_to": "2026-11-02"},
        "properties": [_filter("group", "plan", "is_not", "free", group_type_index=0)],
        "retentionFilter": {
            "period": "Day",
            "totalIntervals": 4,
            "targetEntity": {
                "id": "$pageview",
                "type": "events",
                "properties": [_filter("event", "path", "is_set")],
            },
            "returningEntity": {"id": None, "type": "events"},
        },
    },
}

ALL_INSIGHTS: dict[str, dict[str, Any]] = {**TRENDS, **STICKINESS, **LIFECYCLE, **RETENTION}
