"""Insights declared as PostHog queries: validation, compilation for dbt, and reading results.

* :mod:`gw.insights.schema` — the supported subset of PostHog's query schema (pydantic).
* :mod:`gw.insights.compile` — insight files → ``macros/generated/gw_insight_definitions.sql``.
* :mod:`gw.insights.results` — the marts of one insight in PostHog's response shape (``gw insight``).
"""

from gw.insights.compile import (
    GENERATED_MACRO,
    Insight,
    InsightError,
    compile_definitions,
    insights_dir,
    load_insight,
    write_macro,
)

__all__ = [
    "GENERATED_MACRO",
    "Insight",
    "InsightError",
    "compile_definitions",
    "insights_dir",
    "load_insight",
    "write_macro",
]
