"""The DAGs under a real scheduler: LocalExecutor with three parallel slots on localhost.

``airflow dags test`` runs one task at a time and would hide the DuckDB file lock; here the
scheduler is free to run independent dbt tasks side by side, and only the one-slot pool
``gw_warehouse`` keeps them apart. The scenario:

1. ``airflow backfill create --dag-id gw_landing`` over the last three 15-minute intervals, with the
   sample in the inbox: one run lands it and announces ``gw://lake/events``, the others land
   nothing and announce nothing;
2. the Asset triggers exactly one ``gw_build`` run (check → Cosmos dbt → audit → publish), whose
   deadline is set to 6 s so that the scheduler raises a deadline alert to a loopback webhook;
3. the same backfill again (``--reprocess-behavior completed``): nothing lands, nothing is built.

Time bound: a Cosmos task costs 5-15 s under a real executor on a small machine, so the build
renders only the dbt project's roots (``GW_DBT_SELECT="path:models/staging path:seeds"``: four
models and a seed with no dependency between them — exactly the tasks an executor would start
together). The other marts come from one uninterrupted build of the same sample, copied into the
warehouse beforehand, so the audit and the publish see a whole warehouse. The full project under
Airflow is covered by ``test_pipeline_end_to_end`` (``dag.test()``).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gw.alerts import read_alerts
from gw.config import WarehousePaths
from gw.generator import GeneratedSample
from gw.orchestration import WAREHOUSE_POOL, lake_watermark
from tests.alert_receiver import Receiver, alert_receiver
from tests.integration.conftest import new_home
from tests.integration.local_airflow import LocalAirflow, parse_db_time
from tests.warehouse_tables import differing_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FINISHED = {"success", "failed"}


@dataclass
class Scenario:
    paths: WarehousePaths
    airflow: LocalAirflow
    receiver: Receiver
    sample: GeneratedSample
    first_landing_runs: list[dict[str, Any]]
    builds_after_first_backfill: list[dict[str, Any]]
    published_sha_after_build: str
    watermark_after_build: dict[str, Any]
    landing_runs_after_repeat: list[dict[str, Any]]
    builds_after_repeat: list[dict[str, Any]]
    asset_events: int
    announce_states_after_first: list[str]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _quarter_hours_back(n: int) -> tuple[datetime, datetime]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    end = now - timedelta(minutes=now.minute % 15) - timedelta(minutes=15)
    return end - timedelta(minutes=15 * (n - 1)), end


def _backfill_runs(airflow: LocalAirflow) -> list[dict[str, Any]]:
    return [r for r in airflow.dag_runs("gw_landing") if r["run_type"] == "backfill"]


@pytest.fixture(scope="module")
def scenario(
    tmp_path_factory: pytest.TempPathFactory,
    sample_inbox: tuple[Path, GeneratedSample],
    reference_warehouse: WarehousePaths,
) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("real-executor")
    paths = new_home(root / "home", sample_inbox[0])
    shutil.copy2(reference_warehouse.build_db, paths.build_db)  # the marts this build does not render
    with ExitStack() as stack:
        receiver = stack.enter_context(alert_receiver())
        airflow = LocalAirflow(
            paths,
            airflow_home=root / "airflow",
            parallelism=3,
            extra_env={
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "GW_DBT_SELECT": "path:models/staging path:seeds",
                "GW_ALERT_WEBHOOK_URL": receiver.url,
                "GW_BUILD_DEADLINE_MINUTES": "0.1",
                "GW_RETRY_DELAY_SECONDS": "5",
            },
        )
        stack.callback(airflow.stop)
        airflow.start()
        airflow.wait(
            "the DAG processor to serialise gw_landing and gw_build",
            lambda: (
                len(airflow.query("select dag_id from dag where dag_id in ('gw_landing', 'gw_build')")) >= 2
            ),
            timeout=180,
        )
        airflow.cli("dags", "unpause", "gw_landing")
        airflow.cli("dags", "unpause", "gw_build")
        start, end = _quarter_hours_back(3)
        backfill = ("backfill", "create", "--dag-id", "gw_landing")
        window = ("--from-date", start.isoformat(), "--to-date", end.isoformat())
        airflow.cli(*backfill, *window)

        def first_backfill_and_build_done() -> bool:
            runs = _backfill_runs(airflow)
            builds = airflow.dag_runs("gw_build")
            return (
                len(runs) >= 3
                and all(r["state"] in FINISHED for r in runs)
                and bool(builds)
                and all(b["state"] in FINISHED for b in builds)
                and _backfills_completed(airflow) >= 1
            )

        airflow.wait(
            "the backfill's landing runs and the build they trigger", first_backfill_and_build_done, 900
        )
        first = _backfill_runs(airflow)
        announced = [
            t["state"]
            for t in airflow.task_instances("gw_landing")
            if t["task_id"] == "announce_landed_events"
        ]
        builds = airflow.dag_runs("gw_build")
        published_sha = _sha(paths.published_db) if paths.published_db.exists() else ""
        watermark = lake_watermark(paths)
        receiver.wait_for(lambda body: body.get("kind") == "deadline_missed", timeout=30)

        airflow.cli(*backfill, *window, "--reprocess-behavior", "completed")
        airflow.wait(
            "the repeated backfill to finish",
            lambda: (
                _backfills_completed(airflow) >= 2
                and all(r["state"] in FINISHED for r in _backfill_runs(airflow))
            ),
            timeout=300,
        )
        events = airflow.query(
            "select count(*) from asset_event join asset on asset.id = asset_event.asset_id "
            "where asset.uri = 'gw://lake/events'"
        )[0][0]
        yield Scenario(
            paths=paths,
            airflow=airflow,
            receiver=receiver,
            sample=sample_inbox[1],
            first_landing_runs=first,
            builds_after_first_backfill=builds,
            published_sha_after_build=published_sha,
            watermark_after_build=watermark,
            landing_runs_after_repeat=_backfill_runs(airflow),
            builds_after_repeat=airflow.dag_runs("gw_build"),
            asset_events=int(events),
            announce_states_after_first=announced,
        )


def _backfills_completed(airflow: LocalAirflow) -> int:
    return int(
        airflow.query(
            "select count(*) from backfill where dag_id = 'gw_landing' and completed_at is not null"
        )[0][0]
    )


def test_the_backfilled_landing_triggers_exactly_one_build_that_succeeds(scenario: Scenario) -> None:
    assert [r["state"] for r in scenario.first_landing_runs] == ["success"] * len(scenario.first_landing_runs)
    (build,) = scenario.builds_after_first_backfill
    assert build["run_type"] == "asset_triggered"
    assert build["state"] == "success", scenario.airflow.task_instances("gw_build")
    assert scenario.asset_events == 1
    announced = sorted(scenario.announce_states_after_first)
    assert announced == ["skipped"] * (len(announced) - 1) + ["success"]


def test_every_writer_ran_alone_although_three_tasks_could_run_at_once(scenario: Scenario) -> None:
    pooled = [t for t in scenario.airflow.task_instances() if t["pool"] == WAREHOUSE_POOL and t["start_date"]]
    dbt = [t for t in pooled if t["task_id"].startswith("dbt_build.")]
    assert len(dbt) >= 3  # the rendered roots: independent, so an executor would start them together
    intervals = sorted(
        (parse_db_time(t["start_date"]), parse_db_time(t["end_date"]), t["task_id"]) for t in pooled
    )
    for (_, first_end, first), (second_start, _, second) in zip(intervals, intervals[1:], strict=False):
        assert first_end is not None and second_start is not None
        assert first_end <= second_start, f"{first} and {second} overlapped in the one-slot pool"
    build_tasks = scenario.airflow.task_instances("gw_build")
    assert all(t["try_number"] == 1 for t in build_tasks), "a build task needed a retry"
    logs = "\n".join(
        p.read_text(errors="replace") for p in (scenario.airflow.airflow_home / "logs").rglob("*.log")
    )
    assert "Could not set lock" not in logs
    assert scenario.airflow.env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_the_published_marts_equal_one_uninterrupted_run(
    scenario: Scenario, reference_warehouse: WarehousePaths
) -> None:
    assert differing_tables(scenario.paths.published_db, reference_warehouse.published_db) == {}


def test_repeating_the_backfill_lands_nothing_and_builds_nothing(scenario: Scenario) -> None:
    assert all(r["state"] == "success" for r in scenario.landing_runs_after_repeat)
    assert len(scenario.builds_after_repeat) == 1
    assert scenario.asset_events == 1
    assert lake_watermark(scenario.paths) == scenario.watermark_after_build
    assert _sha(scenario.paths.published_db) == scenario.published_sha_after_build
    assert not any(scenario.paths.inbox.rglob("*.json*"))


def test_task_logs_state_the_counts(scenario: Scenario) -> None:
    landing = scenario.airflow.task_log_text("gw_landing", "land_inbox")
    assert "files_landed=" in landing and "events_landed=" in landing
    assert "quarantined reason=unknown_project count=" in landing
    inputs = scenario.airflow.task_log_text("gw_build", "check_build_inputs")
    assert "landed event rows" in inputs
    audit = scenario.airflow.task_log_text("gw_build", "audit_marts")
    assert "built marts.fct_events: rows=" in audit
    publish = scenario.airflow.task_log_text("gw_build", "publish_marts")
    assert "published marts.fct_events: rows=" in publish


def test_a_build_past_its_deadline_raises_an_alert_record_and_a_webhook_post(scenario: Scenario) -> None:
    recorded = [a for a in read_alerts(scenario.paths) if a["kind"] == "deadline_missed"]
    assert recorded and recorded[0]["dag_id"] == "gw_build"
    posted = [b for b in scenario.receiver.bodies if b.get("kind") == "deadline_missed"]
    assert posted and posted[0]["alert_id"] == recorded[0]["alert_id"]
    assert "6 s" in posted[0]["message"] or "0.1 min" in posted[0]["message"]
