"""All audit suites, in the order the audit runs them."""

from expectations.checks import Suite
from expectations.suites.limits import LIMITS

ALL_SUITES: tuple[Suite, ...] = (LIMITS,)

__all__ = ["ALL_SUITES"]
