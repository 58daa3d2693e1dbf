"""Landing: capture files in the inbox → Parquet lake + quarantine, exactly once.

No Airflow imports here; the DAG and ``gw land`` call :func:`land_inbox`.
"""

from loaders.land import LandingReport, land_inbox
from loaders.reasons import Reason

__all__ = ["LandingReport", "Reason", "land_inbox"]
