"""The pipeline's steps, called by both the Airflow tasks and the ``gw`` command (one code path).

land → build (dbt) → audit (GX) → publish. Each step records what it did as a small JSON file in
``$WAREHOUSE_HOME/state/`` so that ``gw status`` and the next step can read it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from gw.config import WarehousePaths

log = logging.getLogger(__name__)


def record_state(paths: WarehousePaths, step: str, payload: dict[str, Any]) -> Path:
    """Write ``state/last_<step>.json`` atomically with a UTC timestamp."""
    paths.state.mkdir(parents=True, exist_ok=True)
    target = paths.state / f"last_{step}.json"
    temp = target.with_suffix(".json.tmp")
    body = {"step": step, "at": datetime.now(UTC).isoformat(timespec="seconds"), **payload}
    temp.write_text(json.dumps(body, indent=2, default=str))
    temp.replace(target)
    return target


def read_state(paths: WarehousePaths, step: str) -> dict[str, Any] | None:
    """The last record of ``step``, or ``None`` when it never ran."""
    path = paths.state / f"last_{step}.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def land(paths: WarehousePaths, inbox: Path | None = None) -> Any:
    """Land every new file of the inbox into the lake (exactly once) and record the counts."""
    from loaders.land import land_inbox

    paths.ensure()
    report = land_inbox(paths, paths.load_projects(), inbox=inbox)
    record_state(paths, "landing", report.to_dict())
    log.info(report.summary())
    return report


def lake_has_events(paths: WarehousePaths) -> bool:
    """Whether anything has been landed yet (dbt cannot read an empty lake)."""
    events = paths.lake / "events"
    return events.exists() and any(events.rglob("*.parquet"))


def build(paths: WarehousePaths, *, run_date: date | None = None, full_refresh: bool = False) -> Any:
    """Run ``dbt build`` (seeds, models, tests) into the build file and record the node counts."""
    from gw.dbt import run_dbt

    if not lake_has_events(paths):
        raise RuntimeError(
            f"nothing has been landed in {paths.lake} yet: put capture files in {paths.inbox} "
            "and run `gw land` (or `gw demo` for a sample)"
        )
    command = ["build"] + (["--full-refresh"] if full_refresh else [])
    chosen_date = run_date or datetime.now(UTC).date()
    result = run_dbt(paths, command, dbt_vars={"run_date": chosen_date.isoformat()})
    record_build(
        paths,
        run_date=chosen_date.isoformat(),
        nodes=result.counts(),
        full_refresh=full_refresh,
        by="gw build",
    )
    return result


def record_build(
    paths: WarehousePaths,
    *,
    run_date: str | None,
    nodes: dict[str, int] | str,
    full_refresh: bool = False,
    by: str = "gw build",
) -> Path:
    """Record a finished dbt build (``state/last_build.json``, what ``gw status`` shows).

    Called by ``gw build`` with dbt's node counts and by the DAGs' first task after their Cosmos
    dbt group (``audit_marts``), which records what the group built, so a build run by Airflow
    shows in ``gw status`` like one run from the terminal.
    """
    return record_state(
        paths, "build", {"run_date": run_date, "nodes": nodes, "full_refresh": bool(full_refresh), "by": by}
    )


def audit(paths: WarehousePaths, *, stage: bool = True) -> Any:
    """Run the GX suites on the build file; raise :class:`AuditFailed` when a blocking check fails.

    With ``stage`` (the default) the marts of a non-DuckDB build engine (``GW_DBT_TARGET=spark``)
    are first copied into the build file (:func:`gw.engines.stage_marts_for_audit`).
    """
    from expectations import AuditFailed, run_audit
    from gw.engines import stage_marts_for_audit

    if stage:
        stage_marts_for_audit(paths)
    report = run_audit(paths.build_db, gx_root=paths.reports / "gx")
    written = report.write(paths.reports / "audit")
    record_state(
        paths,
        "audit",
        {
            "passed": report.passed,
            "failures": len(report.failures),
            "warnings": len(report.warnings),
            "report": str(written),
            "data_docs": report.data_docs,
        },
    )
    if not report.passed:
        raise AuditFailed(report)
    return report


def publish(paths: WarehousePaths) -> Any:
    """Publish the audited marts (only call after :func:`audit` passed)."""
    from gw.publish import publish as publish_marts

    result = publish_marts(paths)
    record_state(paths, "publish", {"path": str(result.path), "tables": result.tables})
    return result


@dataclass(frozen=True)
class Summary:
    """What the published warehouse holds, as the demo prints it."""

    published_db: Path
    daily_active_groups: dict[tuple[int, str, date], int]
    top_groups: list[tuple[int, str, str, str, int]]
    tables: dict[str, int]


def summarize(paths: WarehousePaths, top: int = 5) -> Summary:
    """Read the published file: active groups per type per day and the busiest groups per type."""
    with duckdb.connect(str(paths.published_db), read_only=True) as connection:
        daily = {
            (int(project_id), str(group_type), day): int(active)
            for project_id, group_type, day, active in connection.execute(
                "select project_id, group_type, activity_date, active_groups "
                "from marts.fct_daily_active_groups order by 1, 2, 3"
            ).fetchall()
        }
        top_rows = connection.execute(
            """
            select project_id, group_type, group_key, display_name, event_count
            from (
                select *, row_number() over (
                    partition by project_id, group_type order by event_count desc, group_key
                ) as position
                from marts.dim_groups
            )
            where position <= ?
            order by project_id, group_type_index, position
            """,
            [top],
        ).fetchall()
        tables = {
            name: int(count)
            for name, count in connection.execute(
                "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        }
    return Summary(
        published_db=paths.published_db,
        daily_active_groups=daily,
        top_groups=[(int(p), str(t), str(k), str(n), int(c)) for p, t, k, n, c in top_rows],
        tables=tables,
    )


@dataclass(frozen=True)
class WarehouseStatus:
    """Totals over the whole warehouse home, for ``gw status`` and the demo's summary."""

    files_landed: int
    events_landed: int
    quarantined_by_reason: dict[str, int]
    last: dict[str, dict[str, Any] | None]


def warehouse_status(paths: WarehousePaths) -> WarehouseStatus:
    """Landed files and events (from the manifest), quarantine by reason, and the last steps."""
    manifest = paths.lake / "_manifest"
    files = events = 0
    quarantined: dict[str, int] = {}
    for entry in sorted(manifest.glob("*.json")) if manifest.exists() else []:
        record = json.loads(entry.read_text())
        files += 1
        events += int(record.get("events_landed") or 0)
        for reason, count in (record.get("quarantine_reasons") or {}).items():
            quarantined[reason] = quarantined.get(reason, 0) + int(count)
    return WarehouseStatus(
        files_landed=files,
        events_landed=events,
        quarantined_by_reason=dict(sorted(quarantined.items())),
        last={step: read_state(paths, step) for step in ("landing", "build", "audit", "publish")},
    )
