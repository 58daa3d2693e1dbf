"""All audit suites, in the order the audit runs them."""

from __future__ import annotations

from expectations.checks import Suite
from expectations.settings import AuditSettings
from expectations.suites.limits import limits_suite
from expectations.suites.marts import marts_suite
from expectations.suites.properties import properties_suite


def all_suites(settings: AuditSettings | None = None) -> tuple[Suite, ...]:
    """Every suite, configured with ``settings`` (default: from the environment)."""
    chosen = settings or AuditSettings.from_env()
    return (limits_suite(chosen), properties_suite(chosen), marts_suite(chosen))


__all__ = ["all_suites"]
