"""What each insight kind is drawn as (gw/report/charts.py), from hand-written PostHog-shaped results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gw.insights.results import BREAKDOWN_NULL, BREAKDOWN_OTHER, InsightResult
from gw.report import report_run_id
from gw.report.charts import breakdown_label, figure_for, step_label


def _result(kind: str, results: list[Any], **definition: Any) -> InsightResult:
    return InsightResult(
        insight_id="x",
        project_id=1,
        kind=kind,
        name=None,
        interval=definition.pop("interval", "day"),
        date_from=datetime(2026, 10, 1),
        date_to=datetime(2026, 10, 3, 23, 59),
        definition={"series": [{"index": 0, "declared_math": "dau", "group_type_index": 0}], **definition},
        response={"kind": kind, "results": results},
    )


def _step(order: int, count: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"order": order, "count": count, "name": name, "custom_name": None, **extra}


def test_trends_draw_one_line_per_series_and_breakdown_value_named_by_the_value() -> None:
    days = ["2026-10-01", "2026-10-02", "2026-10-03"]
    lines = [
        {"label": "pro", "breakdown_value": "pro", "days": days, "labels": days, "data": [1, 2, 3]},
        {"label": "n", "breakdown_value": BREAKDOWN_NULL, "days": days, "labels": days, "data": [0, 1, 0]},
        {"label": "o", "breakdown_value": BREAKDOWN_OTHER, "days": days, "labels": days, "data": [4, 4, 4]},
    ]
    figure = figure_for(_result("TrendsQuery", lines, breakdown={"property": "plan"}))
    assert figure is not None
    assert [trace.name for trace in figure.data] == ["pro", "(none)", "Other"]
    assert [list(trace.y) for trace in figure.data] == [[1, 2, 3], [0, 1, 0], [4, 4, 4]]
    assert all(trace.type == "scatter" and list(trace.x) == days for trace in figure.data)


def test_lifecycle_stacks_the_statuses_with_dormant_below_zero() -> None:
    days = ["2026-10-01", "2026-10-02"]
    lines = [
        {"status": status, "days": days, "data": data}
        for status, data in (
            ("new", [2, 0]),
            ("returning", [0, 1]),
            ("resurrecting", [0, 0]),
            ("dormant", [0, -2]),
        )
    ]
    figure = figure_for(_result("LifecycleQuery", lines, aggregation_group_type_index=0))
    assert figure is not None
    assert figure.layout.barmode == "relative"
    assert [trace.name for trace in figure.data] == ["new", "returning", "resurrecting", "dormant"]
    assert list(figure.data[3].y) == [0, -2]
    assert figure.layout.yaxis.title.text == "groups (type 0)"


def test_retention_is_a_heatmap_of_the_share_of_each_cohort_labelled_with_counts() -> None:
    cohorts = [
        {
            "date": "2026-10-01T00:00:00",
            "values": [{"count": 4, "label": "Day 0"}, {"count": 1, "label": "Day 1"}],
        },
        {
            "date": "2026-10-02T00:00:00",
            "values": [{"count": 0, "label": "Day 0"}, {"count": 0, "label": "Day 1"}],
        },
    ]
    figure = figure_for(_result("RetentionQuery", cohorts))
    assert figure is not None
    (heatmap,) = figure.data
    assert heatmap.type == "heatmap"
    assert [list(row) for row in heatmap.z] == [[100.0, 25.0], [None, None]]  # an empty cohort has no share
    assert [list(row) for row in heatmap.text] == [["4", "1"], ["0", "0"]]
    assert list(heatmap.y) == ["2026-10-01", "2026-10-02"]


def test_stickiness_is_a_histogram_of_actors_by_intervals_active() -> None:
    line = {
        "label": "insight_viewed",
        "labels": ["1 day", "2 days", "3 days"],
        "data": [5, 2, 1],
        "days": [1, 2, 3],
    }
    figure = figure_for(_result("StickinessQuery", [line]))
    assert figure is not None
    (bars,) = figure.data
    assert bars.type == "bar" and list(bars.x) == ["1 day", "2 days", "3 days"] and list(bars.y) == [5, 2, 1]


def test_a_funnel_stacks_who_reached_each_step_on_who_dropped_off_before_it() -> None:
    steps = [_step(0, 10, "signed_up"), _step(1, 6, "insight_viewed"), _step(2, 3, "subscription_started")]
    figure = figure_for(_result("FunnelsQuery", steps, aggregation_group_type_index=0))
    assert figure is not None
    reached, dropped = figure.data
    assert list(reached.x) == ["1. signed_up", "2. insight_viewed", "3. subscription_started"]
    assert list(reached.y) == [10, 6, 3] and list(dropped.y) == [0, 4, 3]
    assert list(reached.text) == ["10 · 100%", "6 · 60%", "3 · 30%"]
    assert figure.layout.barmode == "stack"


def test_a_funnel_breakdown_draws_one_bar_per_value_and_step() -> None:
    lines = [
        [_step(0, 4, "a", breakdown="media", breakdown_value="media"), _step(1, 2, "b", breakdown="media")],
        [_step(0, 2, "a", breakdown_value=""), _step(1, 2, "b", breakdown_value="")],
    ]
    figure = figure_for(_result("FunnelsQuery", lines))
    assert figure is not None
    assert [trace.name for trace in figure.data] == ["media", "(none)"]
    assert figure.layout.barmode == "group"
    assert list(figure.data[0].text) == ["4 · 100%", "2 · 50%"]


def test_an_empty_result_draws_no_chart() -> None:
    assert figure_for(_result("FunnelsQuery", [])) is None
    assert figure_for(_result("RetentionQuery", [])) is None
    assert figure_for(_result("TrendsQuery", [])) is None


def test_step_and_breakdown_labels() -> None:
    assert step_label({"order": 0, "name": "signed_up", "custom_name": "Sign-up"}) == "1. Sign-up"
    assert step_label({"order": 2, "name": None, "custom_name": None}) == "3. All events"
    assert breakdown_label(BREAKDOWN_OTHER) == "Other" and breakdown_label(None) == "(none)"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("manual__2026-10-21T00:00:00+00:00", "manual__2026-10-21T00_00_00_00_00"),
        ("asset_triggered__2026-11-23T17:50:00.123+00:00", "asset_triggered__2026-11-23T17_50_00.123_00_00"),
        ("../../etc/passwd", "etc_passwd"),
        ("latest", "20261123T175000Z"),
        (None, "20261123T175000Z"),
    ],
)
def test_report_run_ids_are_safe_file_names(given: str | None, expected: str) -> None:
    assert report_run_id(given, now=datetime(2026, 11, 23, 17, 50, tzinfo=UTC)) == expected
