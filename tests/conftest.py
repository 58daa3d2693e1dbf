"""Test-wide set-up: Airflow, Cosmos, dbt and GX point at throwaway folders before any import.

Airflow reads ``AIRFLOW_HOME`` when it is first imported, so these variables are set at the top of
this module, before pytest imports any test that imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="gw-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(_SESSION_DIR / "cosmos-cache"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "WAREHOUSE_HOME": str(_SESSION_DIR / "default-home"),
    }
)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    """A folder that lives for the whole test session."""
    return _SESSION_DIR


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest Cosmos renders the DAG from, parsed when stale."""
    from gw.config import warehouse_paths
    from gw.dbt import ensure_manifest

    return ensure_manifest(warehouse_paths())


@pytest.fixture(scope="session")
def airflow_db(session_dir: Path, dbt_manifest: Path) -> Path:
    """A migrated Airflow metadata DB (SQLite) under the session folder, and a fresh dbt manifest."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=dict(os.environ))
    _create_warehouse_pool()
    return session_dir / "airflow"


def _create_warehouse_pool() -> None:
    """The one-slot pool the DAGs' writers run in (what ``airflow pools set`` does, in-process)."""
    from airflow.models.pool import Pool

    from gw.orchestration import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION, WAREHOUSE_POOL_SLOTS

    Pool.create_or_update_pool(
        WAREHOUSE_POOL,
        slots=WAREHOUSE_POOL_SLOTS,
        description=WAREHOUSE_POOL_DESCRIPTION,
        include_deferred=False,
    )
