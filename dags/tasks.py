"""TaskFlow tasks shared by several DAGs (thin wrappers around :mod:`gw.orchestration` and
:mod:`gw.pipeline`). Call them inside a ``@dag`` function; importing this module does no I/O."""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from dags.common import DBT_MANIFEST, LANDED_EVENTS, PUBLISHED_MARTS, RUN_DATE_TEMPLATE, WAREHOUSE_POOL


@task(pool=WAREHOUSE_POOL, outlets=[LANDED_EVENTS])
def land_inbox() -> dict[str, Any]:
    """Land new inbox files (all-in-one pipeline); skip the rest when the lake is still empty."""
    from airflow.sdk.exceptions import AirflowSkipException

    from gw.config import warehouse_paths
    from gw.orchestration import describe_landing
    from gw.pipeline import lake_has_events, land

    paths = warehouse_paths()
    report = land(paths)
    for line in describe_landing(report):
        print(line)
    if not lake_has_events(paths):
        raise AirflowSkipException(f"nothing landed in {paths.lake} yet")
    return {"events_landed": report.events_landed, "files_landed": report.files_landed}


@task
def check_build_inputs() -> dict[str, Any]:
    """Say what the build reads (landed files, event rows); skip when nothing was landed yet."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from gw.config import warehouse_paths
    from gw.orchestration import NothingToBuild
    from gw.orchestration import check_build_inputs as check

    try:
        inputs = check(warehouse_paths(), DBT_MANIFEST)
    except NothingToBuild as exc:
        raise AirflowSkipException(str(exc)) from exc
    except FileNotFoundError as exc:
        raise AirflowFailException(str(exc)) from exc
    print(inputs.describe())
    return {"watermark": inputs.watermark, "lake_files": inputs.lake_files, "lake_events": inputs.lake_events}


def record_dbt_group_build(paths: Any, context: Any, marts: dict[str, int]) -> None:
    """Record the build the Cosmos ``dbt_build`` group just finished (``state/last_build.json``,
    shown by ``gw status``) with the run's date, whether it was a full refresh and which DAG run
    built it. Called by ``audit_marts``, the first task after the group."""
    from gw.pipeline import record_build

    dag_run = context.get("dag_run")
    moment = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    params = context.get("params") or {}
    record_build(
        paths,
        run_date=moment.strftime("%Y-%m-%d") if moment is not None else None,
        nodes=f"built by Airflow (Cosmos task group), {len(marts)} marts",
        full_refresh=str(params.get("full_refresh", False)).lower() == "true",
        by=f"airflow {getattr(dag_run, 'dag_id', '?')} {getattr(dag_run, 'run_id', '?')}",
    )


@task(pool=WAREHOUSE_POOL)
def audit_marts() -> dict[str, Any]:
    """Record the build the dbt group finished and log the rows built per mart, then run the GX
    suites on the build file; a failing audit fails at once (no retry: the data, not the machine,
    is wrong) and nothing is published."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from expectations import AuditFailed
    from gw.config import warehouse_paths
    from gw.engines import stage_marts_for_audit
    from gw.orchestration import table_row_counts
    from gw.pipeline import audit

    paths = warehouse_paths()
    stage_marts_for_audit(paths)  # Spark's marts into the build file; nothing on DuckDB
    counts = table_row_counts(paths.build_db)
    record_dbt_group_build(paths, get_current_context(), counts)
    for name, rows in counts.items():
        print(f"built {name}: rows={rows}")
    try:
        report = audit(paths, stage=False)
    except AuditFailed as exc:
        raise AirflowFailException(f"audit failed, nothing is published: {exc}") from exc
    print(report.describe())
    return {"passed": report.passed, "warnings": len(report.warnings), "rows": counts}


@task(pool=WAREHOUSE_POOL, outlets=[PUBLISHED_MARTS])
def publish_marts(inputs: dict[str, Any] | None = None, run_date: str | None = None) -> dict[str, int]:
    """Copy the audited marts to the published file (atomic replace) and record what was read."""
    from gw.config import warehouse_paths
    from gw.orchestration import lake_watermark, record_built
    from gw.pipeline import publish

    paths = warehouse_paths()
    result = publish(paths)
    for name, rows in result.tables.items():
        print(f"published marts.{name}: rows={rows}")
    watermark = (inputs or {}).get("watermark") or lake_watermark(paths)
    record_built(paths, watermark, run_date)
    return dict(result.tables)


def publish_marts_for_run(inputs: Any = None) -> Any:
    """``publish_marts`` with the run's date (logical date, or when an Asset-triggered run was due)."""
    return publish_marts(inputs=inputs, run_date=RUN_DATE_TEMPLATE)
