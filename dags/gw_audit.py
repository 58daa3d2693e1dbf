"""The daily full audit: every GX suite on the build file, the lake reconciled with its manifests,
and a build requested when the marts are behind the lake."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from dags.common import DEFAULT_ARGS, LANDED_EVENTS, WAREHOUSE_POOL, deadline_alert

DOC_MD = """
### Group warehouse: daily full audit

Runs `@daily` (catch-up off; `airflow backfill create --dag-id gw_audit …` re-audits and is safe to
repeat: it only reads). `audit_build` logs the rows of every mart and runs every GX suite on the
DuckDB build file (in the one-slot pool `gw_warehouse`, so it never meets a build on the file lock);
`reconcile_lake` checks that every manifest's partition files exist and every partition file has a
manifest, reports interrupted landings, inbox files waiting for more than an hour and the
quarantine by reason; `request_build_if_behind` emits `gw://lake/events` (triggering `gw_build`)
when the lake holds files the last published build did not read — the safety net for a lost
trigger. Failures and runs still going after `GW_AUDIT_DEADLINE_MINUTES` (default 60) raise an
alert (`$WAREHOUSE_HOME/alerts/`).
"""


@dag(
    dag_id="gw_audit",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=DOC_MD,
    tags=["group-warehouse"],
    deadline=deadline_alert("gw_audit", "GW_AUDIT_DEADLINE_MINUTES", 60),
)
def gw_audit() -> None:
    """Audit the build → reconcile the lake → request a build when behind."""

    @task(pool=WAREHOUSE_POOL)
    def audit_build() -> dict[str, Any]:
        """Every GX suite on the build file; fails (no retry) when a blocking check fails."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from expectations import AuditFailed
        from gw.config import warehouse_paths
        from gw.orchestration import table_row_counts
        from gw.pipeline import audit

        paths = warehouse_paths()
        if not paths.build_db.exists():
            raise AirflowSkipException(f"{paths.build_db} does not exist yet: nothing was built")
        for name, rows in table_row_counts(paths.build_db).items():
            print(f"build {name}: rows={rows}")
        try:
            report = audit(paths)
        except AuditFailed as exc:
            raise AirflowFailException(f"daily audit failed: {exc}") from exc
        print(report.describe())
        return {"passed": report.passed, "warnings": len(report.warnings)}

    @task(trigger_rule="all_done")
    def reconcile_lake() -> dict[str, Any]:
        """Manifests ↔ partition files, interrupted landings, inbox backlog, quarantine."""
        from airflow.sdk.exceptions import AirflowFailException

        from gw.alerts import Alert, send_alert
        from gw.config import warehouse_paths
        from gw.orchestration import reconcile_lake as reconcile

        paths = warehouse_paths()
        result = reconcile(paths)
        for line in result.describe():
            print(line)
        if result.warnings:
            send_alert(
                Alert(
                    kind="audit_warning",
                    severity="warning",
                    message="; ".join(result.warnings),
                    dag_id="gw_audit",
                    task_id="reconcile_lake",
                ),
                paths,
            )
        if result.problems:
            raise AirflowFailException("lake reconciliation failed: " + "; ".join(result.problems[:20]))
        return {"manifests": result.manifests, "partition_files": result.partition_files}

    @task(outlets=[LANDED_EVENTS])
    def request_build_if_behind() -> dict[str, Any]:
        """Emit ``gw://lake/events`` when the last published build did not read the whole lake."""
        from airflow.sdk.exceptions import AirflowSkipException

        from gw.config import warehouse_paths
        from gw.orchestration import build_is_behind

        behind, watermark = build_is_behind(warehouse_paths())
        if not behind:
            raise AirflowSkipException(f"the published marts are up to date with the lake ({watermark})")
        print(f"the published marts are behind the lake ({watermark}): requesting a build")
        return watermark

    audit_build() >> reconcile_lake() >> request_build_if_behind()


gw_audit()
