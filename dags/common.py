"""Shared pieces of the warehouse's Airflow DAGs: Assets, the writers' pool, retries, alerts,
schedules and the Cosmos dbt task group.

Importing this module does no I/O beyond what Cosmos needs to render the dbt project from its
prebuilt manifest: it reads environment variables and builds configuration objects.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset

import gw.orchestration as _orchestration

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = Path(os.environ.get("GW_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

#: Emitted when landing committed new events to the lake; the build listens for it.
LANDED_EVENTS = Asset("gw://lake/events")
#: Emitted when audited marts were published for BI tools.
PUBLISHED_MARTS = Asset("gw://published/marts")

#: The one-slot pool every task that touches the warehouse's files runs in (see
#: ``gw.orchestration.WAREHOUSE_POOL``); ``gw.airflow_local.ensure_pool`` creates it.
WAREHOUSE_POOL = _orchestration.WAREHOUSE_POOL
WAREHOUSE_POOL_SLOTS = _orchestration.WAREHOUSE_POOL_SLOTS
WAREHOUSE_POOL_DESCRIPTION = _orchestration.WAREHOUSE_POOL_DESCRIPTION

#: Landing's cron schedule: ``GW_LANDING_SCHEDULE``, else the Airflow Variable
#: ``gw_landing_schedule`` given through the environment (``AIRFLOW_VAR_GW_LANDING_SCHEDULE``),
#: else every 15 minutes. Read from the environment only, so parsing the DAG touches no database.
DEFAULT_LANDING_SCHEDULE = "*/15 * * * *"


def landing_schedule() -> str:
    """The landing DAG's schedule (cron or preset such as ``@hourly``)."""
    for name in ("GW_LANDING_SCHEDULE", "AIRFLOW_VAR_GW_LANDING_SCHEDULE"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return DEFAULT_LANDING_SCHEDULE


def _minutes(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def _failure_callback(context: Any) -> None:
    from gw.alerts import task_failure_callback

    task_failure_callback(context)


#: Every task retries with exponential backoff (30 s, 60 s, … at most 10 min) before it fails the
#: run; the last failure raises an alert (``gw.alerts``).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "group-warehouse",
    "retries": int(os.environ.get("GW_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=float(os.environ.get("GW_RETRY_DELAY_SECONDS", "30"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": _failure_callback,
}


def deadline_alert(dag_id: str, env_name: str, default_minutes: float) -> Any:
    """An Airflow 3 deadline alert (the successor of SLAs): when a run of ``dag_id`` is still
    running ``<env_name>`` minutes (default ``default_minutes``) after it was queued, the scheduler
    runs :func:`gw.alerts.deadline_missed_callback` on the executor."""
    from airflow.sdk.definitions.callback import SyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    minutes = _minutes(env_name, default_minutes)
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=SyncCallback(
            "gw.alerts.deadline_missed_callback",
            kwargs={"dag_id": dag_id, "limit": f"{minutes:g} min"},
        ),
    )


#: The dbt run's logical date: the run's logical date, or — for runs triggered by an Asset,
#: which have none — the moment the run was due.
RUN_DATE_TEMPLATE = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"


def dbt_invocation_mode() -> Any:
    """How Cosmos runs dbt: in the task's process (``dbt_runner``, the default: no second Python
    start-up per model) or as a subprocess (``GW_DBT_INVOCATION=subprocess``)."""
    from cosmos.constants import InvocationMode

    chosen = os.environ.get("GW_DBT_INVOCATION", "dbt_runner").strip().lower()
    return InvocationMode.SUBPROCESS if chosen == "subprocess" else InvocationMode.DBT_RUNNER


def dbt_executable() -> str:
    """The dbt executable of the interpreter running the DAG."""
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_task_group(group_id: str = "dbt_build", *, full_refresh: str | bool = False) -> Any:
    """The dbt project as a Cosmos task group (one ``dbt build`` per node, tests included), every
    task in the writers' pool.

    When the prebuilt manifest is missing the group is replaced by one task that fails with an
    error saying how to create it, so the DAG still imports and the failure is visible and alerted.
    """
    from airflow.sdk import task

    if not DBT_MANIFEST.exists():

        @task(task_id=group_id, pool=WAREHOUSE_POOL, retries=0)
        def dbt_manifest_missing() -> None:
            """Fail with the fix: the dbt manifest Cosmos renders the build from is missing."""
            raise FileNotFoundError(
                f"the dbt manifest {DBT_MANIFEST} is missing, so the dbt build cannot be rendered: "
                f"run `dbt parse --project-dir {DBT_PROJECT_DIR} --profiles-dir {DBT_PROJECT_DIR}` "
                "(or `gw build` once), then clear this task"
            )

        return dbt_manifest_missing()

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import LoadMode, TestBehavior

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST,
            project_name="group_warehouse",
        ),
        profile_config=ProfileConfig(
            profile_name="group_warehouse",
            target_name=os.environ.get("GW_DBT_TARGET", "duckdb"),
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            dbt_executable_path=dbt_executable(),
            invocation_mode=dbt_invocation_mode(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # A test of two models (a relationship) gets its own task after both: inside one
            # model's `dbt build` it would run before the other model exists.
            should_detach_multiple_parents_tests=True,
            select=dbt_selection(),
            # No per-model Assets (nor their lineage work per task): the warehouse's Assets are
            # gw://lake/events and gw://published/marts.
            emit_datasets=False,
        ),
        operator_args={
            "append_env": True,
            "install_deps": False,
            "pool": WAREHOUSE_POOL,
            # Close dbt-duckdb's in-process database after each node (matters for DBT_RUNNER).
            "callback": "gw.orchestration.release_dbt_duckdb",
            "full_refresh": full_refresh,
            "vars": {"run_date": RUN_DATE_TEMPLATE},
        },
    )


def dbt_selection() -> list[str]:
    """dbt selectors of the nodes to render (``GW_DBT_SELECT``, space or comma separated, e.g.
    ``tag:hourly``); empty — the default — renders the whole project."""
    raw = os.environ.get("GW_DBT_SELECT", "")
    return [part for part in raw.replace(",", " ").split() if part]
