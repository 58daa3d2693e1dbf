"""Running the project's Airflow DAGs on this machine with a project-local ``AIRFLOW_HOME``.

``gw demo`` and the integration tests use this: the metadata DB is SQLite under
``$WAREHOUSE_HOME/airflow``, DAGs come from the repository's ``dags/`` folder, and nothing is read
from or written to ``~/airflow``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from gw.config import REPO_ROOT, WarehousePaths

DAGS_FOLDER = REPO_ROOT / "dags"


def airflow_env(paths: WarehousePaths) -> dict[str, str]:
    """Environment variables that pin Airflow (and Cosmos) to the warehouse home."""
    env = dict(os.environ)
    env.update(
        {
            "WAREHOUSE_HOME": str(paths.home),
            "AIRFLOW_HOME": str(paths.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__COSMOS__CACHE_DIR": str(paths.home / "cosmos-cache"),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.airflow_home / "logs"),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False",
        }
    )
    return env


def airflow_executable() -> str:
    """The ``airflow`` executable installed beside the running Python."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


@dataclass(frozen=True)
class DagRunOutcome:
    """The result of ``airflow dags test``: success, and where the full log was written."""

    dag_id: str
    logical_date: date
    succeeded: bool
    log_path: Path


def run_dag(paths: WarehousePaths, dag_id: str, logical_date: date) -> DagRunOutcome:
    """Migrate the metadata DB (idempotent) and run one DAG run with ``airflow dags test``.

    The combined output goes to ``reports/airflow-<dag_id>-<date>.log``.
    """
    paths.airflow_home.mkdir(parents=True, exist_ok=True)
    paths.reports.mkdir(parents=True, exist_ok=True)
    env = airflow_env(paths)
    log_path = paths.reports / f"airflow-{dag_id}-{logical_date.isoformat()}.log"
    with log_path.open("w") as log_file:
        migrate = subprocess.run(
            [airflow_executable(), "db", "migrate"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        if migrate.returncode != 0 or not ensure_pool(env, log_file):
            return DagRunOutcome(dag_id, logical_date, False, log_path)
        completed = subprocess.run(
            [airflow_executable(), "dags", "test", dag_id, logical_date.isoformat()],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    succeeded = completed.returncode == 0 and _all_tasks_succeeded(log_path)
    return DagRunOutcome(dag_id, logical_date, succeeded, log_path)


def ensure_pool(env: dict[str, str], log_file: IO[str] | None = None) -> bool:
    """Create (or reset to one slot) the pool that serialises the warehouse's writers.

    Idempotent: ``airflow pools set`` creates the pool or updates it in place. Returns success.
    """
    from gw.orchestration import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION, WAREHOUSE_POOL_SLOTS

    completed = subprocess.run(
        [
            airflow_executable(),
            "pools",
            "set",
            WAREHOUSE_POOL,
            str(WAREHOUSE_POOL_SLOTS),
            WAREHOUSE_POOL_DESCRIPTION,
        ],
        env=env,
        stdout=log_file if log_file is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return completed.returncode == 0


def _all_tasks_succeeded(log_path: Path) -> bool:
    text = log_path.read_text(errors="replace")
    return "state=failed" not in text.lower().replace(" ", "") and "DagRunState.FAILED" not in text
