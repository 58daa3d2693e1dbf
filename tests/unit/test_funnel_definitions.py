"""Funnel insight files: what the schema accepts, what it rejects (naming the field), and what
compile.py hands the SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gw.insights.compile import DEFAULT_INSIGHTS_DIR, InsightError, insight_files, load_insight, normalise


def _funnel(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode", "event": "b"}],
        **fields,
    }


def _load(tmp_path: Path, document: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "funnel.yml"
    path.write_text(yaml.safe_dump(document))
    return normalise(load_insight(path))


def test_funnel_defaults_are_posthogs(tmp_path: Path) -> None:
    funnel = _load(tmp_path, _funnel())["funnel"]
    assert (funnel["window_interval"], funnel["window_unit"], funnel["order"]) == (14, "day", "ordered")
    assert funnel["attribution"] == "first_touch" and funnel["exclusions"] == []


def test_funnel_settings_reach_the_sql(tmp_path: Path) -> None:
    document = _funnel(
        aggregation_group_type_index=1,
        breakdownFilter={"breakdown": "plan", "breakdown_type": "group", "breakdown_group_type_index": 0},
        funnelsFilter={
            "funnelOrderType": "strict",
            "funnelWindowInterval": 90,
            "funnelWindowIntervalUnit": "minute",
            "breakdownAttributionType": "step",
            "breakdownAttributionValue": 1,
            "exclusions": [{"kind": "EventsNode", "event": "x", "funnelFromStep": 0, "funnelToStep": 1}],
        },
    )
    normalised = _load(tmp_path, document)
    assert normalised["aggregation_group_type_index"] == 1
    assert normalised["joins"]["groups"] == [0]
    funnel = normalised["funnel"]
    assert (funnel["order"], funnel["window_interval"], funnel["window_unit"]) == ("strict", 90, "minute")
    assert (funnel["attribution"], funnel["attribution_step"]) == ("step", 1)
    assert funnel["exclusions"][0]["event"] == "x"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _funnel(funnelsFilter={"funnelOrderType": "unordered"}, series=[{"event": "a"}, {"event": "a"}]),
            "series.1.event: 'a' is also step 0",
        ),
        (
            _funnel(funnelsFilter={"funnelOrderType": "unordered"}, series=[{"event": "a"}, {"event": None}]),
            "series.1.event",
        ),
        (
            _funnel(
                funnelsFilter={
                    "funnelOrderType": "unordered",
                    "exclusions": [{"event": "x", "funnelFromStep": 0, "funnelToStep": 1}],
                },
                series=[{"event": "a"}, {"event": "b"}, {"event": "c"}],
            ),
            "exclusions over the whole funnel",
        ),
        (
            _funnel(funnelsFilter={"exclusions": [{"event": "b", "funnelFromStep": 0, "funnelToStep": 1}]}),
            "exclusions cannot be funnel steps",
        ),
        (
            _funnel(funnelsFilter={"exclusions": [{"event": "x", "funnelFromStep": 0, "funnelToStep": 2}]}),
            "funnelToStep",
        ),
        (_funnel(funnelsFilter={"breakdownAttributionType": "step"}), "breakdownAttributionValue"),
        (
            _funnel(funnelsFilter={"breakdownAttributionValue": 1}),
            "only with breakdownAttributionType 'step'",
        ),
        (_funnel(funnelsFilter={"funnelWindowIntervalUnit": "fortnight"}), "funnelWindowIntervalUnit"),
        (_funnel(funnelsFilter={"funnelVizType": "trends"}), "funnelVizType"),
        (
            _funnel(series=[{"event": "a", "optionalInFunnel": True}, {"event": "b"}]),
            "series.0.optionalInFunnel",
        ),
        (_funnel(series=[{"event": "a", "math": "dau"}, {"event": "b"}]), "series.0.math"),
    ],
)
def test_unsupported_funnels_are_rejected_naming_the_field(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InsightError, match="funnel.yml") as raised:
        _load(tmp_path, document)
    assert message in str(raised.value)


def test_an_exclusion_that_only_some_step_events_match_is_accepted(tmp_path: Path) -> None:
    # a step on the same event but with a filter the exclusion lacks: only some exclusions are steps
    document = _funnel(
        series=[{"event": "a"}, {"event": "b", "properties": [{"type": "event", "key": "k", "value": "v"}]}],
        funnelsFilter={"exclusions": [{"event": "b", "funnelFromStep": 0, "funnelToStep": 1}]},
    )
    assert _load(tmp_path, document)["funnel"]["exclusions"][0]["event"] == "b"


def test_the_shipped_funnels_cover_every_order_type_an_exclusion_and_a_breakdown() -> None:
    funnels = [load_insight(path).query for path in insight_files(DEFAULT_INSIGHTS_DIR)]
    funnels = [query for query in funnels if query.kind == "FunnelsQuery"]
    orders = {
        (query.funnelsFilter.funnelOrderType if query.funnelsFilter else None) or "ordered"
        for query in funnels
    }  # type: ignore[union-attr]
    assert orders == {"ordered", "strict", "unordered"}
    assert any(query.funnelsFilter and query.funnelsFilter.exclusions for query in funnels)  # type: ignore[union-attr]
    assert any(query.breakdownFilter and query.breakdownFilter.breakdown_type == "group" for query in funnels)  # type: ignore[union-attr]
    assert all(query.aggregation_group_type_index == 0 for query in funnels)  # type: ignore[union-attr]
