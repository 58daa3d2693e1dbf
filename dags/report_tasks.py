"""TaskFlow tasks that run after a publish: the insight report, the dbt docs and the metrics snapshot
(thin wrappers around :mod:`gw.report`, :mod:`gw.docs` and :mod:`gw.metrics`, the code ``gw report``,
``gw docs`` and ``gw metrics`` run). Call them inside a ``@dag`` function, downstream of
``publish_marts``; importing this module does no I/O."""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from dags.common import RUN_DATE_TEMPLATE, WAREHOUSE_POOL

#: The Airflow run id names the report's file, so re-running a run rewrites its own report.
RUN_ID_TEMPLATE = "{{ run_id }}"


@task(pool=WAREHOUSE_POOL)
def write_insight_report(run_id: str | None = None) -> dict[str, Any]:
    """Write ``reports/insights/<run id>.html`` from the published marts and replace ``latest.html``."""
    from gw.config import warehouse_paths
    from gw.report import summary_lines, write_report

    result = write_report(warehouse_paths(), run_id=run_id)
    for line in summary_lines(result):
        print(line)
    return {"path": str(result.path), "latest": str(result.latest), "charts": result.charts}


@task(pool=WAREHOUSE_POOL)
def generate_dbt_docs(run_date: str | None = None) -> dict[str, Any]:
    """``dbt docs generate`` against the build file into ``reports/dbt-docs`` (in the writers' pool:
    dbt opens the DuckDB build file read-write)."""
    from gw.config import warehouse_paths
    from gw.docs import generate_docs

    result = generate_docs(warehouse_paths(), run_date=run_date)
    for line in result.describe():
        print(line)
    return {"path": str(result.index), "models": result.models, "catalog_tables": result.catalog_tables}


@task
def write_metrics_snapshot() -> dict[str, str]:
    """The semantic layer's headline metrics (``mf query`` on the published file, read-only) into
    ``reports/metrics/*.csv``; no pool: it never opens the build file."""
    from gw.config import warehouse_paths
    from gw.metrics import write_snapshot

    written = write_snapshot(warehouse_paths())
    for name, path in written.items():
        rows = max(sum(1 for _ in path.open()) - 1, 0)
        print(f"metrics snapshot {name}: {rows} rows -> {path}")
    return {name: str(path) for name, path in written.items()}


def after_publish() -> list[Any]:
    """The report, docs and metrics tasks with this run's id and date (templates are rendered only in
    passed arguments); put them downstream of the publish: ``publish >> after_publish()``."""
    return [
        write_insight_report(run_id=RUN_ID_TEMPLATE),
        generate_dbt_docs(run_date=RUN_DATE_TEMPLATE),
        write_metrics_snapshot(),
    ]
