"""Landing on a schedule: the inbox → the Parquet lake, exactly once; announces new events."""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import dag, task

from dags.common import (
    DEFAULT_ARGS,
    LANDED_EVENTS,
    WAREHOUSE_POOL,
    deadline_alert,
    landing_schedule,
)

DOC_MD = """
### Group warehouse: landing

Runs on `GW_LANDING_SCHEDULE` (or the Variable `gw_landing_schedule` given as
`AIRFLOW_VAR_GW_LANDING_SCHEDULE`; default every 15 minutes). `land_inbox` lands every new capture
file of `$WAREHOUSE_HOME/inbox` into the lake exactly once (a manifest keyed by the file's content
hash), quarantines bad events with a reason and archives what it committed. Its log states the
files landed, already landed and quarantined, the events landed and the events quarantined by
reason. It runs in the one-slot pool `gw_warehouse`, like every writer of the warehouse.

`announce_landed_events` emits the Asset `gw://lake/events` (which triggers `gw_build`) only when
the lake changed since the last announcement — so a landing that crashed after committing files is
still announced by the next run — and is *skipped* otherwise.

Safe to repeat: a catch-up or `airflow backfill create --dag-id gw_landing …` over past intervals
lands each file once, whatever the number of runs. A task that fails for good, and a run still
going after `GW_LANDING_DEADLINE_MINUTES` (default 10), raise an alert (`$WAREHOUSE_HOME/alerts/`).
"""


@dag(
    dag_id="gw_landing",
    schedule=landing_schedule(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=os.environ.get("GW_LANDING_CATCHUP", "false").lower() == "true",
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=DOC_MD,
    tags=["group-warehouse"],
    deadline=deadline_alert("gw_landing", "GW_LANDING_DEADLINE_MINUTES", 10),
)
def gw_landing() -> None:
    """Land the inbox, then announce the new events."""

    @task(pool=WAREHOUSE_POOL)
    def land_inbox() -> dict[str, Any]:
        """Land new inbox files; unreadable files stay in the inbox and raise a warning alert."""
        from gw.alerts import Alert, send_alert
        from gw.config import warehouse_paths
        from gw.orchestration import describe_landing
        from gw.pipeline import land

        paths = warehouse_paths()
        report = land(paths)
        for line in describe_landing(report):
            print(line)
        troubled = [f for f in report.files if f.get("outcome") in {"unreadable", "failed"}]
        if troubled:
            send_alert(
                Alert(
                    kind="landing_problem",
                    severity="warning",
                    message=f"{len(troubled)} inbox file(s) could not be landed and stay in the inbox",
                    dag_id="gw_landing",
                    task_id="land_inbox",
                    details={"files": troubled},
                ),
                paths,
            )
        return {
            "files_seen": report.files_seen,
            "files_landed": report.files_landed,
            "files_already_landed": report.files_already_landed,
            "files_quarantined": report.files_quarantined,
            "events_landed": report.events_landed,
            "events_quarantined": dict(report.events_quarantined),
        }

    @task(outlets=[LANDED_EVENTS])
    def announce_landed_events(counts: dict[str, Any], *, outlet_events: Any = None) -> dict[str, Any]:
        """Emit ``gw://lake/events`` when the lake changed since the last announcement."""
        from airflow.sdk.exceptions import AirflowSkipException

        from gw.config import warehouse_paths
        from gw.orchestration import announcement_needed, record_announced

        paths = warehouse_paths()
        needed, watermark = announcement_needed(paths)
        if not needed:
            raise AirflowSkipException(
                f"nothing new in the lake (watermark {watermark}); the build is not triggered"
            )
        outlet_events[LANDED_EVENTS].extra = {"watermark": watermark, **counts}
        record_announced(paths, watermark)
        print(f"announcing {LANDED_EVENTS.uri}: watermark {watermark}, landing counts {counts}")
        return watermark

    announce_landed_events(land_inbox())


gw_landing()
