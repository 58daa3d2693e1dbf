"""The build, triggered by landed events: dbt (Cosmos) → GX audit → publish."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from dags.common import DEFAULT_ARGS, LANDED_EVENTS, dbt_task_group, deadline_alert
from dags.report_tasks import after_publish
from dags.tasks import audit_marts, check_build_inputs, publish_marts_for_run

DOC_MD = """
### Group warehouse: build

Triggered by the Asset `gw://lake/events`, which `gw_landing` emits when new events were landed
(several landings while a build runs collapse into one more build). `check_build_inputs` logs what
the build reads (landed files, event rows) and skips the run while the lake is empty;
`dbt_build` is the dbt project rendered by Cosmos from the prebuilt manifest (one `dbt build` per
node, tests included); `audit_marts` logs the rows built per mart and runs the GX suites;
`publish_marts` copies the audited marts to `$WAREHOUSE_HOME/published/warehouse.duckdb` (atomic
replace: a failed audit leaves the last good publish in place). After the publish,
`write_insight_report` writes the HTML report of every declared insight
(`$WAREHOUSE_HOME/reports/insights/<run id>.html` and `latest.html`) and `generate_dbt_docs` the dbt
docs with the build's catalog (`$WAREHOUSE_HOME/reports/dbt-docs/`) and `write_metrics_snapshot` the
semantic layer's headline metrics (`$WAREHOUSE_HOME/reports/metrics/`).

Every task that opens the DuckDB build file runs in the one-slot pool `gw_warehouse` (DuckDB allows
one writing process per file), so parallel-capable dbt nodes never meet on the file lock, under any
executor. dbt gets var `run_date` = the run's logical date, or the moment an Asset-triggered run was
due. Trigger with `{"full_refresh": true}` to rebuild incremental models from scratch.

Safe to repeat: every task rewrites its whole output, so re-running or clearing a run gives the
same tables. Final failures and runs still going after `GW_BUILD_DEADLINE_MINUTES` (default 60)
raise an alert (`$WAREHOUSE_HOME/alerts/`, and `GW_ALERT_WEBHOOK_URL` when set).
"""


@dag(
    dag_id="gw_build",
    schedule=[LANDED_EVENTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=DOC_MD,
    tags=["group-warehouse"],
    params={"full_refresh": Param(False, type="boolean", description="dbt build --full-refresh")},
    deadline=deadline_alert("gw_build", "GW_BUILD_DEADLINE_MINUTES", 60),
)
def gw_build() -> None:
    """Check inputs → dbt → audit → publish → report and docs."""
    inputs = check_build_inputs()
    dbt = dbt_task_group(full_refresh="{{ params.full_refresh }}")
    published = inputs >> dbt >> audit_marts() >> publish_marts_for_run(inputs)
    published >> after_publish()


gw_build()
