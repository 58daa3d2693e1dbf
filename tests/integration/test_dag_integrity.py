"""Every DAG file imports cleanly and declares what the design asks of it: schedules, the Asset
between landing and building, the one-slot pool around every writer, retries with backoff, failure
and deadline alerts, documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gw.airflow_local import DAGS_FOLDER
from gw.orchestration import WAREHOUSE_POOL

DAG_IDS = {"gw_landing", "gw_build", "gw_audit", "gw_pipeline"}
#: Tasks that never open the DuckDB files nor write the lake, so they may run outside the pool.
OUTSIDE_THE_POOL = {
    "announce_landed_events",
    "check_build_inputs",
    "reconcile_lake",
    "request_build_if_behind",
    "write_metrics_snapshot",
}


def _bag(dag_file: str | None = None):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER / dag_file if dag_file else DAGS_FOLDER))


@pytest.fixture(scope="module")
def bag(airflow_db: Path) -> Any:
    loaded = _bag()
    assert loaded.import_errors == {}
    return loaded


def test_dagbag_has_no_import_errors(bag: Any) -> None:
    assert set(bag.dags) == DAG_IDS


def test_every_dag_is_documented_and_every_task_retries_with_backoff_and_alerts(bag: Any) -> None:
    from gw.alerts import task_failure_callback

    for dag in bag.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 100, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        for task in dag.tasks:
            assert task.retry_exponential_backoff, task.task_id
            if task.task_id != "dbt_build":  # the missing-manifest stand-in never retries
                assert task.retries >= 1, task.task_id
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert callbacks and all(callable(c) for c in callbacks), task.task_id
            assert callbacks[0].__module__ == "dags.common"
    assert callable(task_failure_callback)


def test_every_writer_of_the_warehouse_runs_in_the_one_slot_pool(bag: Any) -> None:
    for dag in bag.dags.values():
        for task in dag.tasks:
            if task.task_id in OUTSIDE_THE_POOL or type(task).__name__ == "EmptyOperator":
                continue  # ephemeral dbt models render as EmptyOperators: they touch nothing
            assert task.pool == WAREHOUSE_POOL, f"{dag.dag_id}.{task.task_id} is outside the pool"
    dbt_tasks = [t for t in bag.dags["gw_build"].tasks if t.task_id.startswith("dbt_build.")]
    assert len(dbt_tasks) >= 5


def test_the_build_has_dbt_tasks_that_could_run_in_parallel(bag: Any) -> None:
    """Without the pool an executor would run these at once and meet DuckDB's file lock."""
    dag = bag.dags["gw_build"]
    dbt = [t for t in dag.tasks if t.task_id.startswith("dbt_build.") and type(t).__name__ != "EmptyOperator"]
    upstream = {t.task_id: t.get_flat_relative_ids(upstream=True) for t in dbt}
    independent = [
        (a.task_id, b.task_id)
        for i, a in enumerate(dbt)
        for b in dbt[i + 1 :]
        if a.task_id not in upstream[b.task_id] and b.task_id not in upstream[a.task_id]
    ]
    assert independent, "no two dbt tasks are independent: the pool test would prove nothing"


def test_landing_runs_every_15_minutes_and_announces_the_landed_events_asset(bag: Any) -> None:
    from dags.common import LANDED_EVENTS

    dag = bag.dags["gw_landing"]
    assert dag.timetable.expression == "*/15 * * * *"
    assert dag.get_task("land_inbox").downstream_task_ids == {"announce_landed_events"}
    assert dag.get_task("announce_landed_events").outlets == [LANDED_EVENTS]
    assert dag.get_task("land_inbox").outlets == []


def test_the_landing_schedule_is_configurable(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_GW_LANDING_SCHEDULE", "*/5 * * * *")
    assert _bag("gw_landing.py").dags["gw_landing"].timetable.expression == "*/5 * * * *"
    monkeypatch.setenv("GW_LANDING_SCHEDULE", "0 * * * *")
    assert _bag("gw_landing.py").dags["gw_landing"].timetable.expression == "0 * * * *"


def test_the_build_is_triggered_by_the_landed_events_asset(bag: Any) -> None:
    from dags.common import LANDED_EVENTS, PUBLISHED_MARTS

    dag = bag.dags["gw_build"]
    assert tuple(dag.timetable.asset_condition.objects) == (LANDED_EVENTS,)
    check = dag.get_task("check_build_inputs")
    # every dbt root, and publish (which records the watermark the check saw)
    assert {t for t in check.downstream_task_ids if not t.startswith("dbt_build.")} == {"publish_marts"}
    assert dag.get_task("publish_marts").upstream_task_ids == {"audit_marts", "check_build_inputs"}
    assert dag.get_task("publish_marts").outlets == [PUBLISHED_MARTS]
    assert "full_refresh" in dag.params


def test_the_full_audit_runs_daily(bag: Any) -> None:
    dag = bag.dags["gw_audit"]
    assert dag.timetable.expression == "0 0 * * *"
    assert [t.task_id for t in dag.topological_sort()] == [
        "audit_build",
        "reconcile_lake",
        "request_build_if_behind",
    ]


def test_scheduled_dags_raise_a_deadline_alert(bag: Any) -> None:
    for dag_id in ("gw_landing", "gw_build", "gw_audit"):
        (alert,) = bag.dags[dag_id].deadline
        assert alert.callback.path == "gw.alerts.deadline_missed_callback"
        assert alert.callback.kwargs["dag_id"] == dag_id


def test_pipeline_order_is_land_build_audit_publish(bag: Any) -> None:
    dag = bag.dags["gw_pipeline"]
    audit = dag.get_task("audit_marts")
    publish = dag.get_task("publish_marts")
    assert publish.upstream_task_ids == {"audit_marts"}
    assert all(task_id.startswith("dbt_build.") for task_id in audit.upstream_task_ids)
    land_downstream = dag.get_task("land_inbox").downstream_task_ids
    assert land_downstream and all(task_id.startswith("dbt_build.") for task_id in land_downstream)


def test_a_missing_dbt_manifest_gives_a_dag_whose_build_fails_with_the_fix(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pendulum
    from airflow.sdk import DAG

    import dags.common as common

    monkeypatch.setattr(common, "DBT_MANIFEST", tmp_path / "target" / "manifest.json")
    with DAG("manifest_missing", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        common.dbt_task_group()
    (task,) = dag.tasks
    assert task.task_id == "dbt_build" and task.pool == WAREHOUSE_POOL
    with pytest.raises(FileNotFoundError, match="dbt parse"):
        task.python_callable()
