"""The warehouse's main DAG: land the inbox → dbt build (Cosmos) → GX audit → publish."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from dags.common import (
    DBT_MANIFEST,
    DBT_PROJECT_DIR,
    DEFAULT_ARGS,
    LANDED_EVENTS,
    PUBLISHED_MARTS,
    dbt_executable,
)

DOC_MD = """
### Group warehouse pipeline

Lands every new capture file of `$WAREHOUSE_HOME/inbox` into the Parquet lake exactly once
(bad events are quarantined with a reason), builds the dbt project on the DuckDB build file
(one task per model through Cosmos, tests included), audits the marts with the Great Expectations
suites in `expectations/`, and only when the audit passes publishes the marts to
`$WAREHOUSE_HOME/published/warehouse.duckdb` (atomic replace: the last good publish stays readable).

The run's logical date is passed to dbt as var `run_date`; nothing reads the wall clock.
Tasks run one at a time (`max_active_tasks=1`): DuckDB allows one writer per file.
"""


@dag(
    dag_id="gw_pipeline",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args=DEFAULT_ARGS,
    doc_md=DOC_MD,
    tags=["group-warehouse"],
)
def gw_pipeline() -> None:
    """Land → build → audit → publish."""

    @task(outlets=[LANDED_EVENTS])
    def land_inbox() -> dict[str, object]:
        """Land new inbox files; skip the rest of the run when the lake is still empty."""
        from airflow.sdk.exceptions import AirflowSkipException

        from gw.config import warehouse_paths
        from gw.pipeline import lake_has_events, land

        paths = warehouse_paths()
        report = land(paths)
        print(report.summary())
        if not lake_has_events(paths):
            raise AirflowSkipException(f"nothing landed in {paths.lake} yet")
        return dict(report.to_dict())

    dbt_build = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST,
            project_name="group_warehouse",
        ),
        profile_config=ProfileConfig(
            profile_name="group_warehouse",
            target_name="duckdb",
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            dbt_executable_path=dbt_executable(),
            invocation_mode=InvocationMode.SUBPROCESS,
        ),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD),
        operator_args={
            "append_env": True,
            "install_deps": False,
            "vars": {"run_date": "{{ ds }}"},
        },
    )

    @task
    def audit_marts() -> dict[str, object]:
        """Run the GX suites on the build file; a failure stops the run before publishing."""
        from gw.config import warehouse_paths
        from gw.pipeline import audit

        report = audit(warehouse_paths())
        print(report.describe())
        return {"passed": report.passed, "warnings": len(report.warnings)}

    @task(outlets=[PUBLISHED_MARTS])
    def publish_marts() -> dict[str, int]:
        """Copy the audited marts to the published file (atomic replace)."""
        from gw.config import warehouse_paths
        from gw.pipeline import publish

        result = publish(warehouse_paths())
        print(f"published {len(result.tables)} marts to {result.path}: {result.tables}")
        return dict(result.tables)

    land_inbox() >> dbt_build >> audit_marts() >> publish_marts()


gw_pipeline()
