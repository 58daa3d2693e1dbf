"""The vocabulary of audit checks: an audit query plus the GX expectations its result must meet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["fail", "warn"]


@dataclass(frozen=True)
class Check:
    """One audit check.

    ``query`` runs against the build DuckDB file and returns the table GX validates;
    ``expectations`` builds the GX expectations (called lazily: importing GX is slow);
    ``sample_query`` returns offending rows for the error message when the check fails.
    A ``warn`` check is reported but never blocks the publish.
    """

    name: str
    description: str
    query: str
    expectations: Callable[[], list[Any]]
    sample_query: str | None = None
    level: Level = "fail"
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Suite:
    """A named list of checks (one GX expectation suite per check table)."""

    name: str
    description: str
    checks: tuple[Check, ...]
