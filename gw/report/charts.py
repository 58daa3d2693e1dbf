"""One plotly figure per insight, drawn from the PostHog-shaped result ``gw insight --json`` prints.

The figures read :class:`gw.insights.results.InsightResult` only (never the marts directly), so the
report shows exactly what ``gw insight ID --json`` answers:

* trends — one line per series (and breakdown value) over the intervals;
* lifecycle — stacked bars per interval: new, returning, resurrecting above zero, dormant below;
* retention — a heatmap of cohorts × periods, coloured by the share of the cohort still active,
  labelled with the counts;
* stickiness — a histogram: how many actors were active in exactly (or at least) N intervals;
* funnels — a bar per step (actors that reached it, labelled with the conversion from the first
  step) stacked on a pale bar of those that dropped off before it; a breakdown draws one bar per
  value and step.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from gw.insights.results import BREAKDOWN_NULL, BREAKDOWN_OTHER, InsightResult

__all__ = ["breakdown_label", "figure_for", "funnel_lines", "step_label"]

LIFECYCLE_COLOURS = {
    "new": "#2f9e44",
    "returning": "#1c7ed6",
    "resurrecting": "#f08c00",
    "dormant": "#e03131",
}
DROPPED_COLOUR = "rgba(134, 142, 150, 0.35)"
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    "hovermode": "x unified",
}


def breakdown_label(value: Any) -> str:
    """A breakdown value as people read it: the marts' "none" and "other" markers translated."""
    if value in (None, "", BREAKDOWN_NULL):
        return "(none)"
    if value == BREAKDOWN_OTHER:
        return "Other"
    return str(value)


def step_label(step: dict[str, Any]) -> str:
    """``"2. insight_viewed"``: the step's number and its custom name, name or "All events"."""
    name = step.get("custom_name") or step.get("name") or "All events"
    return f"{int(step['order']) + 1}. {name}"


def funnel_lines(results: list[Any]) -> list[list[dict[str, Any]]]:
    """A funnel's results as a list of lines (one without a breakdown, one per value with one)."""
    if not results:
        return []
    return results if isinstance(results[0], list) else [results]


def figure_for(result: InsightResult) -> go.Figure | None:
    """The chart of one insight of one project, or ``None`` when there is nothing to draw."""
    builders = {
        "TrendsQuery": _trends,
        "LifecycleQuery": _lifecycle,
        "RetentionQuery": _retention,
        "StickinessQuery": _stickiness,
        "FunnelsQuery": _funnel,
    }
    builder = builders.get(result.kind)
    if builder is None:
        return None
    figure = builder(result)
    if figure is None or not figure.data:
        return None
    figure.update_layout(**_LAYOUT)
    return figure


def _trends(result: InsightResult) -> go.Figure:
    figure = go.Figure()
    has_breakdown = result.definition.get("breakdown") is not None
    for line in result.response["results"]:
        name = line["label"]
        if has_breakdown and len(result.definition.get("series", [])) <= 1:
            name = breakdown_label(line.get("breakdown_value"))
        figure.add_trace(
            go.Scatter(
                x=line["days"], y=line["data"], mode="lines+markers", name=name, customdata=line["labels"]
            )
        )
    figure.update_layout(
        xaxis_title=f"{result.interval} (project time zone)",
        yaxis_title=_value_title(result),
        showlegend=True,
    )
    return figure


def _value_title(result: InsightResult) -> str:
    series = result.definition.get("series") or [{}]
    math = series[0].get("declared_math") or series[0].get("math") or "total"
    group_index = series[0].get("group_type_index")
    if math == "total":
        return "events"
    return f"{math} ({'groups of type ' + str(group_index) if group_index is not None else 'persons'})"


def _lifecycle(result: InsightResult) -> go.Figure:
    figure = go.Figure()
    for line in result.response["results"]:
        status = line["status"]
        figure.add_trace(
            go.Bar(x=line["days"], y=line["data"], name=status, marker_color=LIFECYCLE_COLOURS.get(status))
        )
    figure.update_layout(
        barmode="relative", xaxis_title=f"{result.interval} (project time zone)", yaxis_title=_actors(result)
    )
    return figure


def _actors(result: InsightResult) -> str:
    index = result.definition.get("aggregation_group_type_index")
    return "persons" if index is None else f"groups (type {index})"


def _retention(result: InsightResult) -> go.Figure | None:
    cohorts = result.response["results"]
    if not cohorts:
        return None
    periods = [value["label"] for value in cohorts[0]["values"]]
    shares: list[list[float | None]] = []
    counts: list[list[str]] = []
    labels: list[str] = []
    for cohort in cohorts:
        values = [int(value["count"]) for value in cohort["values"]]
        size = values[0] if values else 0
        labels.append(cohort["date"][:16].replace("T00:00", "").replace("T", " "))
        shares.append([round(100 * v / size, 1) if size else None for v in values])
        counts.append([str(v) for v in values])
    figure = go.Figure(
        go.Heatmap(
            z=shares,
            x=periods,
            y=labels,
            text=counts,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": {"text": "% of cohort"}},
            hovertemplate="cohort %{y}<br>%{x}: %{text} (%{z}%)<extra></extra>",
        )
    )
    figure.update_layout(
        yaxis={"autorange": "reversed", "type": "category"}, xaxis_title="period", hovermode=False
    )
    figure.update_layout(yaxis_title=f"cohort ({_actors(result)})")
    return figure


def _stickiness(result: InsightResult) -> go.Figure:
    figure = go.Figure()
    for line in result.response["results"]:
        figure.add_trace(go.Bar(x=line["labels"], y=line["data"], name=line["label"]))
    figure.update_layout(
        xaxis_title=f"{result.interval}s active in the range",
        yaxis_title=_value_title(result).replace("unique_group", "actors"),
        bargap=0.1,
    )
    return figure


def _funnel(result: InsightResult) -> go.Figure | None:
    lines = funnel_lines(result.response["results"])
    if not lines or not lines[0]:
        return None
    figure = go.Figure()
    steps = [step_label(step) for step in lines[0]]
    if len(lines) == 1 and "breakdown" not in lines[0][0]:
        line = lines[0]
        start = line[0]["count"]
        reached = [step["count"] for step in line]
        dropped = [0] + [
            max(previous - current, 0) for previous, current in zip(reached, reached[1:], strict=False)
        ]
        figure.add_trace(
            go.Bar(
                x=steps,
                y=reached,
                name="reached the step",
                text=[_rate(count, start) for count in reached],
                textposition="inside",
                insidetextanchor="end",
                textangle=0,
                marker_color="#1c7ed6",
            )
        )
        figure.add_trace(
            go.Bar(
                x=steps,
                y=dropped,
                name="dropped off before it",
                marker_color=DROPPED_COLOUR,
                text=[f"−{count}" if count else "" for count in dropped],
                textposition="inside",
                textangle=0,
            )
        )
        figure.update_layout(barmode="stack")
    else:
        for line in lines:
            start = line[0]["count"] if line else 0
            figure.add_trace(
                go.Bar(
                    x=[step_label(step) for step in line],
                    y=[step["count"] for step in line],
                    name=breakdown_label(line[0].get("breakdown_value")) if line else "",
                    text=[_rate(step["count"], start) for step in line],
                    textposition="outside",
                    textangle=0,
                    cliponaxis=False,
                )
            )
        figure.update_layout(barmode="group")
    figure.update_layout(
        xaxis_title="step", yaxis_title=_actors(result), hovermode="closest", legend_traceorder="normal"
    )
    return figure


def _rate(count: int, start: int) -> str:
    return f"{count} · {100 * count / start:.0f}%" if start else str(count)
