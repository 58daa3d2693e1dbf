"""The funnels the funnel oracle tests build: every order type, window unit and edge, exclusions,
overlapping step definitions, person and group aggregation, every breakdown attribution.

Events use the names ``a``, ``b``, ``c`` (steps), ``x`` (exclusions) and ``other``; the range is two
local days, so that step events before and after it are left out. Run date: :data:`RUN_DATE`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

RUN_DATE = date(2026, 10, 20)
RANGE = {"date_from": "2026-10-10", "date_to": "2026-10-11"}


def step(event: str | None, **fields: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": event, "name": event or "All events", **fields}


def exclusion(event: str, from_step: int, to_step: int, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "EventsNode",
        "event": event,
        "funnelFromStep": from_step,
        "funnelToStep": to_step,
        **fields,
    }


def funnel(
    series: list[dict[str, Any]], *, window: tuple[int, str] = (1, "hour"), **fields: Any
) -> dict[str, Any]:
    settings = dict(fields.pop("funnelsFilter", {}))
    settings.update({"funnelWindowInterval": window[0], "funnelWindowIntervalUnit": window[1]})
    return {"kind": "FunnelsQuery", "series": series, "dateRange": RANGE, "funnelsFilter": settings, **fields}


PLAN = {"breakdown": "plan", "breakdown_type": "event"}
INDUSTRY = {"breakdown": "industry", "breakdown_type": "group", "breakdown_group_type_index": 0}
ABC = [step("a"), step("b"), step("c")]

FUNNELS: dict[str, dict[str, Any]] = {
    # ordered, persons and groups, several windows
    "ordered_persons": funnel(ABC),
    "ordered_groups": funnel(ABC, aggregation_group_type_index=0),
    "ordered_seconds_window": funnel([step("a"), step("b")], window=(5400, "second")),
    "ordered_minutes_teams": funnel(
        [step("a"), step("b")], window=(30, "minute"), aggregation_group_type_index=1
    ),
    "ordered_week_window": funnel(ABC, window=(1, "week"), aggregation_group_type_index=0),
    "ordered_month_window_teams": funnel(
        [step("a"), step("c")], window=(1, "month"), aggregation_group_type_index=1
    ),
    "ordered_default_window": {"kind": "FunnelsQuery", "series": ABC, "dateRange": RANGE},
    "window_hour_ab": funnel([step("a"), step("b")]),
    # one event can match two steps
    "repeated_step": funnel([step("a"), step("a"), step("b")], aggregation_group_type_index=0),
    "all_events_steps": funnel(
        [
            step(None, properties=[{"type": "event", "key": "plan", "operator": "is_set"}]),
            step("b"),
            step("b"),
        ]
    ),
    # strict
    "strict_persons": funnel(ABC, window=(2, "hour"), funnelsFilter={"funnelOrderType": "strict"}),
    "strict_groups_repeated": funnel(
        [step("a"), step("a"), step("b")],
        aggregation_group_type_index=0,
        funnelsFilter={"funnelOrderType": "strict"},
    ),
    "strict_exclusion": funnel(
        [step("a"), step("b")],
        aggregation_group_type_index=0,
        funnelsFilter={"funnelOrderType": "strict", "exclusions": [exclusion("x", 0, 1)]},
    ),
    # exclusions
    "exclusion_first_gap": funnel(ABC, funnelsFilter={"exclusions": [exclusion("x", 0, 1)]}),
    "exclusion_second_gap_groups": funnel(
        ABC,
        aggregation_group_type_index=0,
        funnelsFilter={
            "exclusions": [
                exclusion("x", 1, 2),
                exclusion(
                    "other",
                    0,
                    2,
                    properties=[{"type": "event", "key": "plan", "operator": "exact", "value": "pro"}],
                ),
            ]
        },
    ),
    # unordered
    "unordered_groups": funnel(
        ABC,
        aggregation_group_type_index=0,
        funnelsFilter={"funnelOrderType": "unordered", "exclusions": [exclusion("x", 0, 2)]},
    ),
    "unordered_persons": funnel(
        [step("b"), step("a")], window=(30, "minute"), funnelsFilter={"funnelOrderType": "unordered"}
    ),
    # breakdowns and their attribution
    "breakdown_first_touch": funnel(ABC, aggregation_group_type_index=0, breakdownFilter=PLAN),
    "breakdown_last_touch_unordered": funnel(
        [step("a"), step("b")],
        breakdownFilter=PLAN,
        funnelsFilter={"funnelOrderType": "unordered", "breakdownAttributionType": "last_touch"},
    ),
    "breakdown_all_events": funnel(
        ABC, breakdownFilter=PLAN, funnelsFilter={"breakdownAttributionType": "all_events"}
    ),
    "breakdown_step_group_property": funnel(
        [step("a"), step("b")],
        aggregation_group_type_index=1,
        breakdownFilter=INDUSTRY,
        funnelsFilter={"breakdownAttributionType": "step", "breakdownAttributionValue": 1},
    ),
    "breakdown_other": funnel(
        [step("a"), step("b")], breakdownFilter={**PLAN, "breakdown_limit": 1}, aggregation_group_type_index=0
    ),
    "breakdown_hide_other_strict": funnel(
        [step("a"), step("b")],
        breakdownFilter={**PLAN, "breakdown_limit": 1, "breakdown_hide_other_aggregation": True},
        funnelsFilter={"funnelOrderType": "strict"},
    ),
    # filters on steps and on the whole funnel
    "filtered_steps": funnel(
        [
            step("a", properties=[{"type": "person", "key": "role", "operator": "exact", "value": "admin"}]),
            step(
                "b",
                properties=[
                    {
                        "type": "group",
                        "key": "industry",
                        "operator": "is_not",
                        "value": "retail",
                        "group_type_index": 0,
                    }
                ],
            ),
        ],
        properties=[{"type": "event", "key": "plan", "operator": "is_not", "value": "free"}],
    ),
}
