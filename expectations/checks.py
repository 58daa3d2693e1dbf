"""The vocabulary of audit checks: an audit query plus the GX expectations its result must meet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

Level = Literal["fail", "warn"]

#: A check's SQL: a fixed string, or a function that writes it from the build database (for checks
#: that must look at every mart, whatever marts the build holds). The function only reads.
Query = str | Callable[[duckdb.DuckDBPyConnection], str]

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
    Either may be a function of the (read-only) connection that returns the SQL. A ``warn`` check
    is reported but never blocks the publish.
    """

    name: str
    description: str
    query: Query
    expectations: tuple[ExpectationSpec, ...]
    sample_query: Query | None = None
    level: Level = "fail"


def render(query: Query, connection: duckdb.DuckDBPyConnection) -> str:
    """The SQL of ``query``: the string itself, or what its function writes for ``connection``."""
    return query if isinstance(query, str) else query(connection)


@dataclass(frozen=True)
class Suite:
    """A named list of checks; each check becomes GX suite ``<suite>.<check>``."""

    name: str
    description: str
    checks: tuple[Check, ...]
