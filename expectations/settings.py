"""Audit thresholds, from environment variables (documented in the README, "Audit")."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field


class AuditSettings(BaseModel):
    """Tolerances of the audit. Every field has an environment variable ``GW_AUDIT_<FIELD>``."""

    #: Events on group types beyond the five-type limit: above this, a warning...
    limit_violation_warn_events: int = Field(default=0, ge=0)
    #: ...and above this, the audit fails and nothing is published.
    limit_violation_fail_events: int = Field(default=10_000, ge=0)
    #: The newest landed event must be at most this many hours old when the audit runs.
    max_landed_age_hours: float = Field(default=48.0, gt=0)

    @classmethod
    def from_env(cls) -> AuditSettings:
        """Read ``GW_AUDIT_*`` variables; unset ones keep their defaults."""
        values = {
            name: os.environ[f"GW_AUDIT_{name.upper()}"]
            for name in cls.model_fields
            if f"GW_AUDIT_{name.upper()}" in os.environ
        }
        return cls.model_validate(values)
