"""Landing with worker processes gives the same lake; every event is accounted for exactly once."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gw.config import DEMO_PROJECTS_YAML, ProjectsConfig, WarehousePaths, warehouse_paths
from loaders import land_inbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"
PROJECTS = ProjectsConfig.model_validate(yaml.safe_load(DEMO_PROJECTS_YAML))
NOW = datetime(2024, 5, 2, tzinfo=UTC)
RECEIVED = datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp()


def fill_inbox(paths: WarehousePaths) -> None:
    """A mixed inbox: client bodies, an export, bad events and a bad file."""
    bodies: dict[str, bytes] = {
        "python.json": (FIXTURES / "python_batch.json").read_bytes(),
        "js.json": (FIXTURES / "js_batch.json").read_bytes(),
        "export.jsonl": (FIXTURES / "batch_export.jsonl").read_bytes(),
        "broken.json": b'{"api_key": "phc_demo_production_key", "batch": [',
    }
    for i in range(12):
        batch = [
            {"event": f"e{i}-{j}", "distinct_id": f"u{j}", "timestamp": f"2024-04-{1 + j % 5:02d}T10:00:00Z"}
            for j in range(30)
        ] + ["not an event"]
        bodies[f"many/{i:02d}.json"] = orjson.dumps({"api_key": "phc_demo_production_key", "batch": batch})
    for name, body in bodies.items():
        path = paths.inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        os.utime(path, (RECEIVED, RECEIVED))


def snapshot(paths: WarehousePaths) -> tuple[list[Any], list[Any], list[str]]:
    lake = duckdb.sql(
        f"select * from read_parquet('{paths.lake}/events/**/*.parquet', hive_partitioning=true) "
        "order by source_name, source_row"
    ).fetchall()
    quarantine = duckdb.sql(
        f"select * from read_parquet('{paths.quarantine}/events/*.parquet') order by source_name, source_row"
    ).fetchall()
    files = sorted(str(p.relative_to(paths.home)) for p in paths.home.rglob("*") if p.is_file())
    return lake, quarantine, files


def test_worker_processes_land_the_same_lake_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("GW_LAND_WORKERS", workers)
        paths = warehouse_paths(tmp_path / f"workers-{workers}").ensure()
        fill_inbox(paths)
        report = land_inbox(paths, PROJECTS, now=NOW)
        assert (report.files_landed, report.files_quarantined) == (15, 1)
        results[workers] = (report.events_landed, report.events_quarantined, snapshot(paths))
    assert results["1"] == results["2"]


def _die(*args: Any, **kwargs: Any) -> None:
    os._exit(3)  # what an OOM kill looks like to the pool


def test_a_dying_worker_falls_back_to_landing_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GW_LAND_WORKERS", "2")
    monkeypatch.setattr("loaders.land._stage_in_worker", _die)
    paths = warehouse_paths(tmp_path / "home").ensure()
    fill_inbox(paths)

    report = land_inbox(paths, PROJECTS, now=NOW)

    assert (report.files_landed, report.files_quarantined) == (15, 1)
    assert not [p for p in paths.inbox.rglob("*") if p.is_file()]


# --- every event is landed or quarantined, exactly once ---------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=8))
maybe_event = st.one_of(
    scalars,
    st.fixed_dictionaries(
        {},
        optional={
            "event": st.one_of(st.sampled_from(["$pageview", "signup", ""]), scalars),
            "distinct_id": st.one_of(st.text(max_size=5), st.integers(), st.none()),
            "timestamp": st.one_of(
                st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-13-01", "soon"]),
                scalars,
            ),
            "uuid": st.one_of(st.uuids().map(str), st.text(max_size=4)),
            "offset": st.integers(0, 10**6),
            "properties": st.one_of(
                st.dictionaries(
                    st.sampled_from(["$groups", "$set", "a", "token"]),
                    scalars | st.dictionaries(st.text(max_size=3), scalars, max_size=3),
                    max_size=4,
                ),
                scalars,
            ),
            "api_key": st.sampled_from(["phc_demo_production_key", "phc_demo_staging_key", "phc_unknown"]),
        },
    ),
)


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(maybe_event, max_size=12))
def test_every_event_is_landed_or_quarantined_once_and_a_rerun_changes_nothing(
    tmp_path: Path, batch: list[Any]
) -> None:
    home = tmp_path / "property"
    shutil.rmtree(home, ignore_errors=True)
    paths = warehouse_paths(home).ensure()
    (paths.inbox / "body.json").write_text(json.dumps(batch))  # stdlib: integers beyond 64 bits

    report = land_inbox(paths, PROJECTS, now=NOW)
    before = sorted(str(p) for p in paths.lake.rglob("*.parquet"))
    again = land_inbox(paths, PROJECTS, now=NOW)

    if batch:
        assert report.events_landed + sum(report.events_quarantined.values()) == len(batch)
    assert (again.files_seen, again.events_landed) == (0, 0)
    assert sorted(str(p) for p in paths.lake.rglob("*.parquet")) == before
