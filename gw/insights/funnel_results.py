"""A funnel insight read from ``mart_insight_funnel_steps``, in PostHog's funnel response shape.

PostHog's ``FunnelsQuery`` returns, without a breakdown, one list of steps; with a breakdown, one
such list per breakdown value (ordered as the mart ranks them: the values whose actors got
furthest first, "Other" last). A step is ``{action_id, name, custom_name, order, people, count,
type, average_conversion_time, median_conversion_time}`` plus ``breakdown`` / ``breakdown_value``
with a breakdown; times are seconds from the previous step (``None`` for the first step and when
nobody reached the step). Unordered funnels name their steps "Completed N step(s)" and carry no
``action_id``, as PostHog does. PostHog's funnels show a missing breakdown value as ``""`` and the
values past the limit as ``"Other"``; the marts' labels are translated to those.
"""

from __future__ import annotations

from typing import Any

import duckdb
from rich.table import Table

__all__ = ["funnel_results", "funnel_table"]

_MISSING_VALUE = "$$_posthog_breakdown_null_$$"
_OTHER_VALUE = "$$_posthog_breakdown_other_$$"
_POSTHOG_VALUES = {_MISSING_VALUE: "", _OTHER_VALUE: "Other"}


def funnel_results(
    connection: duckdb.DuckDBPyConnection, insight_id: str, project_id: int, definition: dict[str, Any]
) -> list[Any]:
    """PostHog's ``results`` for one funnel insight and project."""
    rows = connection.execute(
        "select breakdown_value, step_number, step_name, step_event, step_custom_name, actor_count, "
        "average_conversion_seconds, median_conversion_seconds "
        "from marts.mart_insight_funnel_steps where insight_id = ? and project_id = ? "
        "order by breakdown_rank nulls first, breakdown_value, step_number",
        [insight_id, project_id],
    ).fetchall()
    unordered = definition.get("funnel", {}).get("order") == "unordered"
    has_breakdown = definition.get("breakdown") is not None
    lines: dict[str | None, list[dict[str, Any]]] = {}
    for value, number, name, event, custom_name, count, average, median in rows:
        step: dict[str, Any] = {
            "action_id": None if unordered else event,
            "name": name if unordered else event,
            "custom_name": None if unordered else custom_name,
            "order": int(number) - 1,
            "people": [],
            "count": int(count),
            "type": "events",
            "average_conversion_time": None if average is None else float(average),
            "median_conversion_time": None if median is None else float(median),
        }
        if has_breakdown:
            shown = _POSTHOG_VALUES.get(value, value)
            step["breakdown"] = shown
            step["breakdown_value"] = shown
        lines.setdefault(value, []).append(step)
    if not has_breakdown:
        return next(iter(lines.values()), [])
    return list(lines.values())


def funnel_table(results: list[Any]) -> Table:
    """``gw insight`` without ``--json``: one row per breakdown line, one column per step.

    A cell shows the actors that reached the step, the conversion from the first step and the
    median time from the previous step.
    """
    lines = results if results and isinstance(results[0], list) else [results]
    table = Table()
    table.add_column("breakdown" if lines and lines[0] and "breakdown" in lines[0][0] else "")
    for position, step in enumerate(lines[0] if lines else []):
        table.add_column(
            f"{position + 1}. {step['custom_name'] or step['name'] or 'All events'}", justify="right"
        )
    for line in lines:
        label = str(line[0].get("breakdown", "all")) if line else "all"
        cells = [label or "(none)"]
        start = line[0]["count"] if line else 0
        for step in line:
            rate = f"{100 * step['count'] / start:.0f}%" if start else "–"
            median = step["median_conversion_time"]
            cells.append(f"{step['count']} ({rate})" + ("" if median is None else f" · {_duration(median)}"))
        table.add_row(*cells)
    return table


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
