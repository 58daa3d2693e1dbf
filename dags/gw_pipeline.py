"""All in one run: land the inbox → dbt build (Cosmos) → GX audit → publish (demo and manual use)."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from dags.common import DEFAULT_ARGS, dbt_task_group
from dags.report_tasks import after_publish
from dags.tasks import audit_marts, land_inbox, publish_marts_for_run

DOC_MD = """
### Group warehouse pipeline (all in one run)

The same tasks as `gw_landing` and `gw_build` in one manually triggered run — what `gw demo` runs
with `airflow dags test`: land every new capture file of `$WAREHOUSE_HOME/inbox` into the Parquet
lake exactly once (bad events are quarantined with a reason), build the dbt project on the DuckDB
build file (one Cosmos task per node, tests included), audit the marts with the GX suites in
`expectations/`, and only when the audit passes publish them to
`$WAREHOUSE_HOME/published/warehouse.duckdb` (atomic replace: the last good publish stays readable).
After the publish, `write_insight_report` writes the HTML report of every declared insight
(`$WAREHOUSE_HOME/reports/insights/<run id>.html` and `latest.html`) and `generate_dbt_docs` the dbt
docs of the project and the build's catalog (`$WAREHOUSE_HOME/reports/dbt-docs/`) and
`write_metrics_snapshot` the semantic layer's headline metrics (`$WAREHOUSE_HOME/reports/metrics/`).

The run's logical date is passed to dbt as var `run_date`; nothing reads the wall clock. Every
writer runs in the one-slot pool `gw_warehouse`: DuckDB allows one writer per file. Not scheduled:
the scheduled path is `gw_landing` → Asset → `gw_build`.
"""


@dag(
    dag_id="gw_pipeline",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=DOC_MD,
    tags=["group-warehouse"],
)
def gw_pipeline() -> None:
    """Land → build → audit → publish → report and docs."""
    published = land_inbox() >> dbt_task_group() >> audit_marts() >> publish_marts_for_run()
    published >> after_publish()


gw_pipeline()
