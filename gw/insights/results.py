"""Read a declared insight's result from the marts, in the shape PostHog's query API returns.

``gw insight ID --json`` prints :func:`posthog_response`, so a user can diff the warehouse's answer
with PostHog's for the same query: trends as a list of series (``label``, ``days``, ``labels``,
``data``, ``count``, ``breakdown_value``, ``action``); lifecycle as one series per ``status``;
stickiness as one series per event with ``days`` 1…N; retention as one row per cohort with its
``values``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["InsightNotFound", "InsightResult", "insight_ids", "posthog_response", "read_insight"]

BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
LIFECYCLE_STATUSES = ("new", "returning", "resurrecting", "dormant")


class InsightNotFound(LookupError):
    """The insight (or the project) is not in the marts."""


@dataclass(frozen=True)
class InsightResult:
    """One insight of one project as read from the marts."""

    insight_id: str
    project_id: int
    kind: str
    name: str | None
    interval: str
    date_from: datetime
    date_to: datetime
    definition: dict[str, Any]
    response: dict[str, Any]


def insight_ids(database: Path) -> list[tuple[str, int, str]]:
    """``(insight_id, project_id, kind)`` of every insight in a warehouse file."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return [
            (str(i), int(p), str(k))
            for i, p, k in connection.execute(
                "select insight_id, project_id, insight_kind from marts.mart_insights order by 1, 2"
            ).fetchall()
        ]


def read_insight(database: Path, insight_id: str, project_id: int | None = None) -> InsightResult:
    """The result of ``insight_id`` for ``project_id`` (default: the lowest project id)."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select project_id, insight_kind, insight_name, interval_unit, date_from, date_to, definition "
            "from marts.mart_insights where insight_id = ? order by project_id",
            [insight_id],
        ).fetchall()
        if not rows:
            known = [
                r[0]
                for r in connection.execute(
                    "select distinct insight_id from marts.mart_insights order by 1"
                ).fetchall()
            ]
            raise InsightNotFound(f"no insight {insight_id!r} (declared: {', '.join(known) or 'none'})")
        chosen = rows[0] if project_id is None else next((r for r in rows if r[0] == project_id), None)
        if chosen is None:
            raise InsightNotFound(
                f"insight {insight_id!r} has no project {project_id} (projects: {', '.join(str(r[0]) for r in rows)})"
            )
        project, kind, name, interval, date_from, date_to, definition_text = chosen
        definition = json.loads(definition_text)
        response = posthog_response(connection, insight_id, int(project), kind, definition)
    return InsightResult(
        insight_id=insight_id,
        project_id=int(project),
        kind=str(kind),
        name=name,
        interval=str(interval),
        date_from=date_from,
        date_to=date_to,
        definition=definition,
        response=response,
    )


def posthog_response(
    connection: duckdb.DuckDBPyConnection,
    insight_id: str,
    project_id: int,
    kind: str,
    definition: dict[str, Any],
) -> dict[str, Any]:
    """``{"results": …}`` as PostHog's query API returns it for ``kind``."""
    from gw.insights.funnel_results import funnel_results

    builders = {
        "TrendsQuery": _trends,
        "StickinessQuery": _stickiness,
        "LifecycleQuery": _lifecycle,
        "RetentionQuery": _retention,
        "FunnelsQuery": funnel_results,
    }
    if kind not in builders:
        raise InsightNotFound(f"insight {insight_id!r} is a {kind}; its marts are not built yet")
    results = builders[kind](connection, insight_id, project_id, definition)
    return {"kind": kind, "results": results}


# ------------------------------------------------------------------------------------------------
# Formatting helpers
# ------------------------------------------------------------------------------------------------
def _day(moment: datetime, interval: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if interval == "hour" else "%Y-%m-%d")


def _label(moment: datetime, interval: str) -> str:
    text = f"{moment.day}-{moment.strftime('%b-%Y')}"
    return f"{text} {moment.strftime('%H:%M')}" if interval == "hour" else text


def _action(series: dict[str, Any]) -> dict[str, Any]:
    event = series["event"]
    action: dict[str, Any] = {
        "id": event,
        "type": "events",
        "order": series["index"],
        "name": event if event is not None else "All events",
        "math": series["declared_math"],
    }
    if series.get("custom_name"):
        action["custom_name"] = series["custom_name"]
    if series.get("group_type_index") is not None:
        action["math_group_type_index"] = series["group_type_index"]
    return action


def _breakdown_order(value: str | None) -> int:
    return 2 if value == BREAKDOWN_OTHER else 1 if value == BREAKDOWN_NULL else 0


# ------------------------------------------------------------------------------------------------
# Kinds
# ------------------------------------------------------------------------------------------------
def _trends(
    connection: duckdb.DuckDBPyConnection, insight_id: str, project_id: int, definition: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = connection.execute(
        "select series_index, breakdown_value, interval_start, value from marts.mart_insight_trends "
        "where insight_id = ? and project_id = ? order by series_index, breakdown_value, interval_index",
        [insight_id, project_id],
    ).fetchall()
    interval = definition["interval"]
    lines: dict[tuple[int, str | None], list[tuple[datetime, int]]] = {}
    for series_index, breakdown_value, start, value in rows:
        lines.setdefault((int(series_index), breakdown_value), []).append((start, int(value)))
    series_by_index = {series["index"]: series for series in definition["series"]}
    has_breakdown = definition.get("breakdown") is not None
    results = []
    for series_index in sorted(series_by_index):
        series = series_by_index[series_index]
        keys = [key for key in lines if key[0] == series_index]
        keys.sort(key=lambda key: (_breakdown_order(key[1]), -sum(v for _, v in lines[key]), key[1] or ""))
        for key in keys:
            points = lines[key]
            label = series["label"]
            if has_breakdown:
                label = f"{label} - {key[1]}" if len(series_by_index) > 1 else str(key[1])
            results.append(
                {
                    "action": _action(series),
                    "label": label,
                    "count": sum(value for _, value in points),
                    "data": [value for _, value in points],
                    "labels": [_label(start, interval) for start, _ in points],
                    "days": [_day(start, interval) for start, _ in points],
                    "breakdown_value": key[1] if has_breakdown else None,
                }
            )
    return results


def _stickiness(
    connection: duckdb.DuckDBPyConnection, insight_id: str, project_id: int, definition: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = connection.execute(
        "select series_index, active_intervals, value, cumulative_value from marts.mart_insight_stickiness "
        "where insight_id = ? and project_id = ? order by series_index, active_intervals",
        [insight_id, project_id],
    ).fetchall()
    interval = definition["interval"]
    cumulative = bool(definition.get("cumulative"))
    results = []
    for series in definition["series"]:
        points = [(int(n), int(v), int(c)) for s, n, v, c in rows if s == series["index"]]
        data = [c if cumulative else v for _, v, c in points]
        suffix = " or more" if cumulative else ""
        results.append(
            {
                "action": _action(series),
                "label": series["label"],
                "count": sum(v for _, v, _ in points),
                "data": data,
                "days": [n for n, _, _ in points],
                "labels": [f"{n} {interval}{'' if n == 1 else 's'}{suffix}" for n, _, _ in points],
            }
        )
    return results


def _lifecycle(
    connection: duckdb.DuckDBPyConnection, insight_id: str, project_id: int, definition: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = connection.execute(
        "select status, interval_start, value from marts.mart_insight_lifecycle "
        "where insight_id = ? and project_id = ? order by status_order, interval_index",
        [insight_id, project_id],
    ).fetchall()
    interval = definition["interval"]
    series = definition["series"][0]
    event_name = series["event"] if series["event"] is not None else "All events"
    results = []
    for status in LIFECYCLE_STATUSES:
        points = [(start, int(value)) for s, start, value in rows if s == status]
        results.append(
            {
                "action": {**_action(series), "math": "total"},
                "label": f"{event_name} - {status}",
                "status": status,
                "count": sum(value for _, value in points),
                "data": [value for _, value in points],
                "labels": [_label(start, interval) for start, _ in points],
                "days": [_day(start, interval) for start, _ in points],
            }
        )
    return results


def _retention(
    connection: duckdb.DuckDBPyConnection, insight_id: str, project_id: int, definition: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = connection.execute(
        "select cohort_index, cohort_start, period, value from marts.mart_insight_retention "
        "where insight_id = ? and project_id = ? order by cohort_index, period",
        [insight_id, project_id],
    ).fetchall()
    unit = definition["interval"].title()
    cohorts: dict[int, tuple[datetime, list[int]]] = {}
    for cohort_index, cohort_start, _period, value in rows:
        cohorts.setdefault(int(cohort_index), (cohort_start, []))[1].append(int(value))
    return [
        {
            "values": [{"count": value, "label": f"{unit} {period}"} for period, value in enumerate(values)],
            "label": f"{unit} {cohort_index}",
            "date": start.isoformat(),
            "breakdown_value": None,
        }
        for cohort_index, (start, values) in sorted(cohorts.items())
    ]
