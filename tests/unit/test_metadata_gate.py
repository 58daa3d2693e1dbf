"""The metadata gate (dbt-score with the rules of gw/metadata_gate.py) on the project's manifest.

The real manifest passes with every public mart evaluated; copies of it with one piece of
metadata removed fail, naming the mart and what is missing; models outside schema `marts` are not
the gate's business.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gw.config import warehouse_paths
from gw.dbt import run_dbt
from gw.metadata_gate import lint

RULES = "gw.metadata_gate.public_mart_"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("gate-home")
    target = home / "target"
    run_dbt(warehouse_paths(home), ["parse"], target_path=target)
    loaded: dict[str, Any] = json.loads((target / "manifest.json").read_text())
    return loaded


def _lint(manifest: dict[str, Any], folder: Path) -> tuple[int, dict[str, Any]]:
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    completed = lint(path, "--format", "json")
    return completed.returncode, json.loads(completed.stdout)


def _node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    (node,) = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name]
    return node


def _public_marts(manifest: dict[str, Any]) -> set[str]:
    return {
        n["unique_id"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }


def test_every_public_mart_of_the_project_passes_the_gate(manifest: dict[str, Any], tmp_path: Path) -> None:
    code, report = _lint(manifest, tmp_path)
    assert code == 0, report
    evaluated = {
        unique_id
        for unique_id, item in report["evaluables"].items()
        if any(rule.startswith(RULES) for rule in item["results"])
    }
    marts = _public_marts(manifest)
    assert len(marts) >= 25
    assert evaluated == marts
    for unique_id in marts:
        results = report["evaluables"][unique_id]["results"]
        assert len(results) == 3 and {r["result"] for r in results.values()} == {"OK"}, unique_id


def test_a_mart_missing_a_description_a_column_description_or_a_grain_test_fails(
    manifest: dict[str, Any], tmp_path: Path
) -> None:
    broken = json.loads(json.dumps(manifest))
    _node(broken, "dim_groups")["description"] = ""
    _node(broken, "fct_events")["columns"]["event"]["description"] = " "
    dim_group_types = _node(broken, "dim_group_types")["unique_id"]
    for unique_id, node in list(broken["nodes"].items()):
        metadata = node.get("test_metadata") or {}
        is_grain_test = metadata.get("name") in {"unique", "unique_combination"}
        if node["resource_type"] == "test" and node.get("attached_node") == dim_group_types and is_grain_test:
            del broken["nodes"][unique_id]
            broken["child_map"].get(dim_group_types, []).remove(unique_id)

    code, report = _lint(broken, tmp_path)

    assert code == 1
    assert report["project"]["pass"] is False
    failures = {
        (unique_id.split(".")[-1], rule.removeprefix(RULES)): result["message"]
        for unique_id, item in report["evaluables"].items()
        for rule, result in item["results"].items()
        if result["result"] != "OK"
    }
    assert failures.keys() == {
        ("dim_groups", "has_description"),
        ("fct_events", "columns_have_descriptions"),
        ("dim_group_types", "has_grain_test"),
    }
    assert "event" in failures[("fct_events", "columns_have_descriptions")]


def test_models_outside_the_public_marts_are_not_gated(manifest: dict[str, Any], tmp_path: Path) -> None:
    relaxed = json.loads(json.dumps(manifest))
    internal = _node(relaxed, "int_events_deduplicated")
    assert internal["schema"] != "marts"
    internal["description"] = ""
    code, _ = _lint(relaxed, tmp_path)
    assert code == 0
