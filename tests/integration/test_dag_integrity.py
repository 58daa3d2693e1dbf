"""Every DAG file imports cleanly and declares what the design asks of it."""

from __future__ import annotations

from pathlib import Path

from gw.airflow_local import DAGS_FOLDER


def _bag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_dagbag_has_no_import_errors(airflow_db: Path) -> None:
    bag = _bag()
    assert bag.import_errors == {}
    assert "gw_pipeline" in bag.dags


def test_every_dag_is_documented_and_retries(airflow_db: Path) -> None:
    for dag in _bag().dags.values():
        assert dag.doc_md and len(dag.doc_md) > 100, dag.dag_id
        for task in dag.tasks:
            assert task.retries >= 1, task.task_id


def test_pipeline_order_is_land_build_audit_publish(airflow_db: Path) -> None:
    dag = _bag().dags["gw_pipeline"]
    audit = dag.get_task("audit_marts")
    publish = dag.get_task("publish_marts")
    assert publish.upstream_task_ids == {"audit_marts"}
    assert all(task_id.startswith("dbt_build.") for task_id in audit.upstream_task_ids)
    land_downstream = dag.get_task("land_inbox").downstream_task_ids
    assert land_downstream and all(task_id.startswith("dbt_build.") for task_id in land_downstream)
