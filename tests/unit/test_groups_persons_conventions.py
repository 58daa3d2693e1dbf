"""The groups and persons models keep the house rules, read from dbt's manifest.

Every model is described with all its columns, has a grain test, reads its parents through
``ref``/``source`` only from the layer below, and every public mart has an enforced contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gw.config import warehouse_paths
from gw.dbt import run_dbt

#: The folders this domain owns.
FOLDERS = (
    "models/staging/warehouse/",
    "models/intermediate/events/",
    "models/intermediate/groups/",
    "models/intermediate/persons/",
    "models/marts/groups/",
    "models/marts/events/",
    "models/marts/persons/",
    "models/marts/activity/",
)
GRAIN_TESTS = {"unique_combination", "unique"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("parse-home")
    target = home / "target"
    run_dbt(warehouse_paths(home), ["parse"], target_path=target)
    loaded: dict[str, Any] = json.loads((target / "manifest.json").read_text())
    return loaded


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    models = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(FOLDERS)
    ]
    assert len(models) >= 25
    return models


def test_every_model_and_column_is_described(manifest: dict[str, Any]) -> None:
    for model in _models(manifest):
        assert model["description"].strip(), model["name"]
        assert model["columns"], f"{model['name']} documents no column"
        for column in model["columns"].values():
            assert column["description"].strip(), f"{model['name']}.{column['name']}"


def test_every_model_has_a_grain_test(manifest: dict[str, Any]) -> None:
    tested: set[str] = set()
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and metadata.get("name") in GRAIN_TESTS:
            tested.update(node["depends_on"]["nodes"])
    for model in _models(manifest):
        assert model["unique_id"] in tested, f"{model['name']} has no grain test"


def test_public_marts_have_enforced_contracts(manifest: dict[str, Any]) -> None:
    bridges = {"fct_event_groups", "fct_group_type_limit_violations"}  # kept as they were
    for model in _models(manifest):
        if model["schema"] == "marts" and model["name"] not in bridges:
            assert model["config"]["contract"]["enforced"], model["name"]


def test_layers_read_only_the_layer_beneath(manifest: dict[str, Any]) -> None:
    layer = {"staging": 0, "intermediate": 1, "marts": 2}

    def layer_of(unique_id: str) -> int | None:
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            return None
        return layer[Path(node["original_file_path"]).parts[1]]

    for model in _models(manifest):
        own = layer[Path(model["original_file_path"]).parts[1]]
        for parent in model["depends_on"]["nodes"]:
            if parent.startswith("source."):
                assert own == 0, f"{model['name']} reads a source"
            elif (parent_layer := layer_of(parent)) is not None:
                assert parent_layer <= own, f"{model['name']} reads {parent} from a later layer"
        if own == 0:
            assert all(p.startswith("source.") for p in model["depends_on"]["nodes"]), model["name"]
