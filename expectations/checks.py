"""The vocabulary of audit checks: an audit query plus the GX expectations its result must meet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["fail", "warn"]

#: An expectation by GX class name and keyword arguments, e.g.
#: ``("ExpectColumnValuesToBeBetween", {"column": "n", "max_value": 5})``. Built lazily by the
#: audit runner, because importing GX is slow.
ExpectationSpec = tuple[str, dict[str, Any]]


def expect(name: str, **kwargs: Any) -> ExpectationSpec:
    """Spell an expectation: ``expect("ExpectTableRowCountToEqual", value=0)``."""
    return (name, kwargs)


@dataclass(frozen=True)
class Check:
    """One audit check.

    ``query`` runs against the build DuckDB file and returns the table GX validates with
    ``expectations``; ``sample_query`` returns offending rows for the message when the check fails.
    A ``warn`` check is reported but never blocks the publish.
    """

    name: str
    description: str
    query: str
    expectations: tuple[ExpectationSpec, ...]
    sample_query: str | None = None
    level: Level = "fail"


@dataclass(frozen=True)
class Suite:
    """A named list of checks; each check becomes GX suite ``<suite>.<check>``."""

    name: str
    description: str
    checks: tuple[Check, ...]
