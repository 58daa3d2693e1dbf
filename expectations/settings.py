"""Audit thresholds, from environment variables (documented in the README, "Audit")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

#: The dbt project whose vars the build uses (``gw`` passes only ``run_date`` on the command line).
DBT_PROJECT_FILE = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def dbt_project_var(name: str, project_file: Path = DBT_PROJECT_FILE) -> object:
    """The value of var ``name`` as ``dbt_project.yml`` declares it (what every ``gw build`` uses)."""
    declared = (yaml.safe_load(project_file.read_text()) or {}).get("vars") or {}
    if name not in declared:
        raise KeyError(f"{project_file} declares no var {name!r}")
    return declared[name]


def _configured_property_mode() -> Literal["merge", "overwrite"]:
    mode = dbt_project_var("group_property_mode")
    if mode not in ("merge", "overwrite"):
        raise ValueError(
            f"var group_property_mode in {DBT_PROJECT_FILE} must be merge or overwrite, got {mode!r}"
        )
    return "merge" if mode == "merge" else "overwrite"


class AuditSettings(BaseModel):
    """Tolerances of the audit. Every field has an environment variable ``GW_AUDIT_<FIELD>``."""

    #: Events on group types beyond the five-type limit: above this, a warning...
    limit_violation_warn_events: int = Field(default=0, ge=0)
    #: ...and above this, the audit fails and nothing is published.
    limit_violation_fail_events: int = Field(default=10_000, ge=0)
    #: The newest landed event must be at most this many hours old when the audit runs.
    max_landed_age_hours: float = Field(default=48.0, gt=0)
    #: How ``$groupidentify`` updates combine, for the properties suite's independent fold: by
    #: default the dbt var ``group_property_mode`` as ``dbt_project.yml`` sets it, which is what
    #: ``gw build`` and the DAG build with. Set ``GW_AUDIT_GROUP_PROPERTY_MODE`` when a build was
    #: run with ``--vars '{group_property_mode: ...}'``.
    group_property_mode: Literal["merge", "overwrite"] = Field(default_factory=_configured_property_mode)

    @classmethod
    def from_env(cls) -> AuditSettings:
        """Read ``GW_AUDIT_*`` variables; unset ones keep their defaults."""
        values = {
            name: os.environ[f"GW_AUDIT_{name.upper()}"]
            for name in cls.model_fields
            if f"GW_AUDIT_{name.upper()}" in os.environ
        }
        return cls.model_validate(values)
