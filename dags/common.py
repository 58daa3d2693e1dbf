"""Shared pieces of the warehouse's Airflow DAGs: Assets, paths and the Cosmos configuration.

Importing this module does no I/O: it only builds configuration objects.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from airflow.sdk import Asset

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = Path(os.environ.get("GW_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

#: Emitted when landing committed new events to the lake; the build listens for it.
LANDED_EVENTS = Asset("gw://lake/events")
#: Emitted when audited marts were published for BI tools.
PUBLISHED_MARTS = Asset("gw://published/marts")

#: Every task retries with exponential backoff before it fails the run.
DEFAULT_ARGS = {
    "owner": "group-warehouse",
    "retries": 2,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def dbt_executable() -> str:
    """The dbt executable of the interpreter running the DAG."""
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"
