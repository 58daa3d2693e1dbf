"""`gw bench --size small` end to end: the CI smoke test of the benchmark harness (issue 9).

No timing assertions (CI machines vary): it pins down that every step ran and was measured, that
the baselines' equality checks ran (a failed check aborts the run), and that the JSON file a
tracking job reads has every step, the engine settings and the targets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gw.bench import STEP_NAMES, TARGETS

GW = str(Path(sys.executable).with_name("gw"))

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    workdir = tmp_path_factory.mktemp("bench")
    output = workdir / "results" / "bench.json"
    completed = subprocess.run(
        [GW, "bench", "--size", "small", "--workdir", str(workdir), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "gw bench --size small" in completed.stdout
    return json.loads(output.read_text())


def test_bench_json_has_every_step_measured(bench_json: dict[str, object]) -> None:
    steps = {step["name"]: step for step in bench_json["steps"]}  # type: ignore[index, union-attr]
    assert list(steps) == STEP_NAMES
    for step in steps.values():
        assert step["seconds"] > 0, step
        assert step["peak_rss_mb"] > 0, step


def test_bench_baselines_equality_checks_ran(bench_json: dict[str, object]) -> None:
    checks = " | ".join(bench_json["checks"])  # type: ignore[arg-type]
    assert "chdb uniqExact daily active groups == mart" in checks
    assert "chdb windowFunnel per-step counts == mart_insight_funnel_steps" in checks
    funnel_counts = bench_json["funnel_counts"]
    assert isinstance(funnel_counts, dict) and funnel_counts, "the funnel counts compared are recorded"


def test_bench_ratios_settings_and_targets_recorded(bench_json: dict[str, object]) -> None:
    steps = {step["name"]: step for step in bench_json["steps"]}  # type: ignore[index, union-attr]
    for name in TARGETS:
        assert steps[name]["ratio"] is not None and steps[name]["baseline"], name
    assert bench_json["settings"]["duckdb_memory_limit"] == "3GB"  # type: ignore[index]
    assert bench_json["settings"]["duckdb_threads"] == 2  # type: ignore[index]
    incremental = bench_json["incremental"]
    assert incremental["increment_events"] == round(bench_json["events"] * 0.001)  # type: ignore[index, operator]
    assert {row["target"].split()[0] for row in bench_json["targets"]} >= set(TARGETS)  # type: ignore[union-attr, index]
    assert set(bench_json["query_latency_ms"]) and all(  # type: ignore[arg-type]
        values["p95"] >= values["p50"]
        for values in bench_json["query_latency_ms"].values()  # type: ignore[union-attr]
    )
