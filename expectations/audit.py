"""The audit runner: audit queries in DuckDB, expectations in Great Expectations, one verdict."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from expectations.checks import Check, Query, Suite, render

log = logging.getLogger(__name__)


@dataclass
class ExpectationOutcome:
    """One expectation's verdict on one check's table."""

    suite: str
    check: str
    expectation: str
    kwargs: dict[str, Any]
    success: bool
    level: str
    observed: Any = None
    unexpected: list[Any] = field(default_factory=list)


@dataclass
class AuditReport:
    """The verdict of an audit run: every expectation's outcome and samples of offending rows."""

    database: str
    started_at: str
    outcomes: list[ExpectationOutcome]
    samples: dict[str, list[dict[str, Any]]]
    data_docs: str | None = None

    @property
    def passed(self) -> bool:
        """True when no expectation of level ``fail`` failed (warnings never block)."""
        return all(o.success for o in self.outcomes if o.level == "fail")

    @property
    def failures(self) -> list[ExpectationOutcome]:
        """Failed expectations that block the publish."""
        return [o for o in self.outcomes if not o.success and o.level == "fail"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed expectations of level ``warn``."""
        return [o for o in self.outcomes if not o.success and o.level == "warn"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "database": self.database,
            "started_at": self.started_at,
            "passed": self.passed,
            "outcomes": [asdict(o) for o in self.outcomes],
            "samples": self.samples,
            "data_docs": self.data_docs,
        }

    def describe(self) -> str:
        """A human summary: counts, then each failure or warning with its sample rows."""
        lines = [
            f"audit {'PASSED' if self.passed else 'FAILED'}: {len(self.outcomes)} expectations, "
            f"{len(self.failures)} failed, {len(self.warnings)} warnings"
        ]
        for outcome in self.failures + self.warnings:
            label = "FAIL" if outcome.level == "fail" else "WARN"
            seen = (
                f"unexpected values {outcome.unexpected}"
                if outcome.unexpected
                else f"observed {outcome.observed!r}"
            )
            lines.append(
                f"  {label} {outcome.suite}.{outcome.check}: {outcome.expectation}"
                f"({_kwargs_text(outcome.kwargs)}): {seen}"
            )
            sample = self.samples.get(f"{outcome.suite}.{outcome.check}")
            for row in (sample or [])[:5]:
                lines.append(f"      offending row: {row}")
        if self.data_docs:
            lines.append(f"  Data Docs: {self.data_docs}")
        return "\n".join(lines)

    def write(self, folder: Path) -> Path:
        """Write the report as ``<folder>/audit-<timestamp>.json`` and return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("-", "")
        path = folder / f"audit-{stamp}.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path


class AuditFailed(RuntimeError):
    """Raised when an audit has failing expectations; the message names them with samples."""

    def __init__(self, report: AuditReport) -> None:
        super().__init__(report.describe())
        self.report = report


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k not in {"batch_id"})


def _gx_context(project_root: Path | None) -> Any:
    """A file context under ``project_root`` (stores results, builds Data Docs), else ephemeral."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    if project_root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        project_root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(project_root))
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except (ImportError, AttributeError):  # pragma: no cover - older/newer GX layouts
        pass
    return context


def _validate(context: Any, suite: Suite, check: Check, frame: Any) -> list[ExpectationOutcome]:
    import great_expectations as gx

    name = f"{suite.name}.{check.name}"
    source = context.data_sources.add_or_update_pandas(name=f"{name}.source")
    asset = next((a for a in source.assets if a.name == check.name), None) or source.add_dataframe_asset(
        name=check.name
    )
    batch_definition = next(
        (b for b in asset.batch_definitions if b.name == "all"), None
    ) or asset.add_batch_definition_whole_dataframe("all")
    expectation_suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=name,
            expectations=[getattr(gx.expectations, kind)(**kwargs) for kind, kwargs in check.expectations],
            meta={"description": check.description, "level": check.level},
        )
    )
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=expectation_suite)
    )
    result = validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            ExpectationOutcome(
                suite=suite.name,
                check=check.name,
                expectation=config.type,
                kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                success=bool(item.success),
                level=check.level,
                observed=details.get("observed_value", details.get("unexpected_count")),
                unexpected=list(details.get("partial_unexpected_list") or [])[:10],
            )
        )
    return outcomes


def _sample(connection: duckdb.DuckDBPyConnection, sample_query: Query) -> list[dict[str, Any]]:
    """Up to ten offending rows of a failed check (a failing sample query is reported, not raised)."""
    try:
        sample = connection.sql(render(sample_query, connection)).df().head(10)
    except duckdb.Error as exc:
        return [{"sample_query_failed": str(exc).splitlines()[0]}]
    loaded: list[dict[str, Any]] = json.loads(sample.to_json(orient="records", date_format="iso"))
    return loaded


def run_audit(
    database: Path, suites: Sequence[Suite] | None = None, *, gx_root: Path | None = None
) -> AuditReport:
    """Run every check of ``suites`` (default: all) against the DuckDB file ``database``.

    The file is opened read-only. A check whose query fails (a missing mart, say) is reported as a
    failed expectation rather than raised, so one broken check never hides the others. With
    ``gx_root`` the results are stored in a GX file context there and its Data Docs are rebuilt.
    """
    from expectations.suites import all_suites

    chosen = tuple(suites) if suites is not None else all_suites()
    started = datetime.now(UTC).replace(microsecond=0).isoformat()
    context = _gx_context(gx_root)
    outcomes: list[ExpectationOutcome] = []
    samples: dict[str, list[dict[str, Any]]] = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        for suite in chosen:
            for check in suite.checks:
                key = f"{suite.name}.{check.name}"
                try:
                    frame = connection.sql(render(check.query, connection)).df()
                except duckdb.Error as exc:
                    outcomes.append(
                        ExpectationOutcome(
                            suite=suite.name,
                            check=check.name,
                            expectation="audit_query_runs",
                            kwargs={},
                            success=False,
                            level="fail",
                            observed=str(exc).splitlines()[0],
                        )
                    )
                    continue
                check_outcomes = _validate(context, suite, check, frame)
                outcomes.extend(check_outcomes)
                if check.sample_query and not all(o.success for o in check_outcomes):
                    samples[key] = _sample(connection, check.sample_query)
    data_docs = None
    if gx_root is not None:
        sites = context.build_data_docs()
        data_docs = str(sites.get("local_site", "")).removeprefix("file://") or None
    report = AuditReport(
        database=str(database), started_at=started, outcomes=outcomes, samples=samples, data_docs=data_docs
    )
    log.info(report.describe())
    return report
