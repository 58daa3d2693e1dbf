"""Insight files: validation errors name the file and the field; compilation is deterministic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from gw.insights.compile import (
    DEFAULT_INSIGHTS_DIR,
    GENERATED_MACRO,
    InsightError,
    compile_definitions,
    load_insight,
    normalise,
    render_macro,
)


def _write(folder: Path, insight_id: str, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{insight_id}.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _trends(**fields: Any) -> dict[str, Any]:
    return {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], **fields}


def test_the_committed_generated_macro_is_up_to_date_with_the_insight_files() -> None:
    expected = render_macro(compile_definitions(DEFAULT_INSIGHTS_DIR), DEFAULT_INSIGHTS_DIR)
    assert GENERATED_MACRO.read_text() == expected, "run `python -m gw.insights` and commit the result"


def test_the_example_insights_cover_every_kind_the_marts_build() -> None:
    kinds = {definition["kind"] for definition in compile_definitions(DEFAULT_INSIGHTS_DIR)}
    assert kinds >= {"TrendsQuery", "StickinessQuery", "LifecycleQuery", "RetentionQuery"}


def test_compiling_is_deterministic_and_sorted_by_id(tmp_path: Path) -> None:
    _write(tmp_path, "zeta", _trends())
    _write(tmp_path, "alpha", _trends(interval="week"))
    first = render_macro(compile_definitions(tmp_path), tmp_path)
    second = render_macro(compile_definitions(tmp_path), tmp_path)
    assert first == second
    assert [d["id"] for d in compile_definitions(tmp_path)] == ["alpha", "zeta"]


def test_the_macro_literal_gives_back_the_definitions_with_quotes_and_backslashes(tmp_path: Path) -> None:
    tricky = 'it\'s a "quoted" \\path\\ with {{ braces }} and {% tags %} ü'
    _write(
        tmp_path,
        "tricky",
        _trends(properties=[{"type": "event", "key": tricky, "operator": "regex", "value": "^a\\d+'$"}]),
    )
    definitions = compile_definitions(tmp_path)
    macro = render_macro(definitions, tmp_path)
    literal = macro.split("fromjson(", 1)[1].rsplit(")) }}", 1)[0]
    rendered = jinja2.Environment().from_string("{{ " + literal + " }}").render()
    assert json.loads(rendered) == json.loads(json.dumps(definitions))


@pytest.mark.parametrize(
    ("document", "field_path"),
    [
        pytest.param(
            _trends(series=[{"kind": "EventsNode", "event": "x", "math": "avg"}]), "series.0.math", id="math"
        ),
        pytest.param(_trends(trendsFilter={"formula": "A+B"}), "trendsFilter.formula", id="formula"),
        pytest.param(_trends(interval="minute"), "interval", id="interval"),
        pytest.param(_trends(compareFilter={"compare": True}), "compareFilter", id="compare"),
        pytest.param(_trends(colour="red"), "colour", id="unknown-top-level-field"),
        pytest.param(
            _trends(properties=[{"type": "event", "key": "a", "operator": "between", "value": [1, 2]}]),
            "properties.0.operator",
            id="operator",
        ),
        pytest.param(
            _trends(properties=[{"type": "cohort", "key": "id", "value": 3}]),
            "properties.0.type",
            id="cohort-filter",
        ),
        pytest.param(
            _trends(
                properties={
                    "type": "AND",
                    "values": [{"type": "OR", "values": [{"type": "group", "key": "plan", "value": "pro"}]}],
                }
            ),
            "properties.values.0.values.0.group_type_index",
            id="group-filter-without-index",
        ),
        pytest.param(_trends(dateRange={"date_from": "last week"}), "dateRange.date_from", id="date"),
        pytest.param(
            _trends(breakdownFilter={"breakdown": "plan", "breakdown_type": "cohort"}),
            "breakdownFilter.breakdown_type",
            id="breakdown-type",
        ),
        pytest.param(
            {"kind": "RetentionQuery", "retentionFilter": {"period": "Day", "cumulative": True}},
            "retentionFilter.cumulative",
            id="cumulative-retention",
        ),
        pytest.param(
            {"kind": "InsightVizNode", "source": _trends(samplingFactor=0.1)},
            "source.samplingFactor",
            id="wrapped",
        ),
        pytest.param({"kind": "PathsQuery"}, "kind", id="kind"),
    ],
)
def test_an_unsupported_field_fails_with_the_file_and_the_field_path(
    tmp_path: Path, document: dict[str, Any], field_path: str
) -> None:
    path = _write(tmp_path, "unsupported", document)
    with pytest.raises(InsightError) as raised:
        load_insight(path)
    assert f"{path}: {field_path}:" in str(raised.value)


def test_every_invalid_file_is_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "good", _trends())
    _write(tmp_path, "bad_one", _trends(interval="minute"))
    _write(tmp_path, "bad_two", _trends(series=[]))
    with pytest.raises(InsightError) as raised:
        compile_definitions(tmp_path)
    assert "bad_one.yml: interval:" in str(raised.value)
    assert "bad_two.yml: series:" in str(raised.value)


def test_the_file_name_is_the_id_and_must_be_safe(tmp_path: Path) -> None:
    path = _write(tmp_path, "not ok", _trends())
    with pytest.raises(InsightError, match="file name is the insight id"):
        load_insight(path)


def test_the_export_wrapper_and_a_bare_query_give_the_same_definition(tmp_path: Path) -> None:
    query = _trends(interval="week", dateRange={"date_from": "-30d"})
    bare = normalise(load_insight(_write(tmp_path / "a", "same", query)))
    wrapped = normalise(
        load_insight(_write(tmp_path / "b", "same", {"kind": "InsightVizNode", "source": query}))
    )
    assert bare == wrapped


def test_weekly_and_monthly_active_become_daily_active_for_long_intervals(tmp_path: Path) -> None:
    series = [
        {"kind": "EventsNode", "event": None, "math": "weekly_active", "math_group_type_index": 0},
        {"kind": "EventsNode", "event": None, "math": "monthly_active"},
    ]
    maths = {}
    for interval in ("day", "week", "month"):
        document = normalise(
            load_insight(_write(tmp_path / interval, "wau", _trends(series=series, interval=interval)))
        )
        maths[interval] = [(s["math"], s["actor"]) for s in document["series"]]
    assert maths["day"] == [("weekly_active", "group"), ("monthly_active", "person")]
    assert maths["week"] == [("dau", "group"), ("monthly_active", "person")]
    assert maths["month"] == [("dau", "group"), ("dau", "person")]


def test_filters_and_breakdowns_are_normalised_for_the_sql(tmp_path: Path) -> None:
    document = normalise(
        load_insight(
            _write(
                tmp_path,
                "normalised",
                _trends(
                    properties=[
                        {"type": "event", "key": "$group_2", "operator": "is_set"},
                        {"type": "event", "key": "beta", "value": [True, 3]},
                        {"type": "person", "key": "age", "operator": "gt", "value": "30"},
                    ],
                    breakdownFilter={
                        "breakdown": "plan",
                        "breakdown_type": "group",
                        "breakdown_group_type_index": 1,
                    },
                    dateRange={"date_from": "-1mStart", "date_to": "2026-10-31T00:00:00Z"},
                ),
            )
        )
    )
    leaves = document["properties"]["values"]
    assert [(leaf["type"], leaf["group_type_index"]) for leaf in leaves] == [
        ("group_key", 2),
        ("event", None),
        ("person", None),
    ]
    assert leaves[1]["values"] == ["true", "3"] and leaves[2]["number"] == 30.0
    assert document["breakdown"] == {
        "type": "group",
        "key": "plan",
        "group_type_index": 1,
        "limit": 25,
        "hide_other": False,
    }
    assert document["joins"] == {"person": True, "groups": [1]}
    assert document["date_from"] == {"kind": "relative", "amount": 1, "unit": "m", "position": "Start"}
    assert document["date_to"] == {"kind": "absolute", "date": "2026-10-31"}


def test_funnels_are_validated_and_normalised_for_the_funnel_marts(tmp_path: Path) -> None:
    document = normalise(
        load_insight(
            _write(
                tmp_path,
                "signup_funnel",
                {
                    "kind": "FunnelsQuery",
                    "series": [
                        {"kind": "EventsNode", "event": "$pageview"},
                        {
                            "kind": "EventsNode",
                            "event": "signed_up",
                            "properties": [{"type": "event", "key": "plan", "value": "pro"}],
                        },
                    ],
                    "aggregation_group_type_index": 0,
                    "funnelsFilter": {
                        "funnelWindowInterval": 7,
                        "funnelWindowIntervalUnit": "day",
                        "funnelOrderType": "strict",
                        "exclusions": [
                            {"kind": "EventsNode", "event": "churned", "funnelFromStep": 0, "funnelToStep": 1}
                        ],
                    },
                },
            )
        )
    )
    funnel = document["funnel"]
    assert (funnel["window_interval"], funnel["window_unit"], funnel["order"]) == (7, "day", "strict")
    assert funnel["exclusions"] == [{"event": "churned", "from_step": 0, "to_step": 1, "properties": None}]
    assert document["aggregation_group_type_index"] == 0
    bad = _write(
        tmp_path,
        "bad_funnel",
        {
            "kind": "FunnelsQuery",
            "series": [{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode", "event": "b"}],
            "funnelsFilter": {"exclusions": [{"event": "c", "funnelFromStep": 0, "funnelToStep": 2}]},
        },
    )
    with pytest.raises(InsightError, match="funnelToStep"):
        load_insight(bad)
