"""The work behind the Airflow tasks, as plain functions (no Airflow imports here).

The DAGs in ``dags/`` are thin wrappers around these functions and :mod:`gw.pipeline`, so the
behaviour is testable without a scheduler and the ``gw`` command shares the same code path.

Two small records in ``$WAREHOUSE_HOME/state/`` tie landing and building together:

- the **lake watermark** identifies the set of landed files (how many manifests, and a digest of
  their names); landing announces ``LANDED_EVENTS`` when the watermark differs from the last one
  it announced (``state/last_announced.json``), so a landing that crashed after committing files
  but before announcing them is announced by the next run;
- after a publish the watermark the build read is stored as ``state/last_built.json``; the daily
  audit compares it with the lake and requests a build when the marts are behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from gw.config import WarehousePaths

#: The one-slot pool every task that writes the warehouse home runs in: landing (the lake), dbt
#: (the DuckDB build file), the audits (they open the build file, and DuckDB refuses a reader while
#: another process writes) and publishing. DuckDB allows one writing process per file, so parallel
#: dbt tasks would fail with "Could not set lock on file"; the pool serialises them under any
#: executor. ``GW_WAREHOUSE_POOL`` renames it (one pool per warehouse when several share Airflow).
WAREHOUSE_POOL = os.environ.get("GW_WAREHOUSE_POOL", "gw_warehouse")
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = (
    "Serialises every task that writes the group warehouse (lake, DuckDB build file, published "
    "file): DuckDB allows one writing process per file. Keep it at 1 slot."
)


class NothingToBuild(RuntimeError):
    """The lake holds no events yet: the build is skipped, not failed."""


# --------------------------------------------------------------------------------------------
# watermarks


def lake_watermark(paths: WarehousePaths) -> dict[str, Any]:
    """The landed-file set as ``{"manifests": n, "digest": …}`` (cheap: names only, no reads)."""
    folder = paths.lake / "_manifest"
    names: list[str] = []
    if folder.is_dir():
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".json") and not e.name.startswith("."))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    return {"manifests": len(names), "digest": digest}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(payload, indent=2, default=str))
    temp.replace(path)


def _watermark_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    mark = record.get("watermark")
    return mark if isinstance(mark, dict) else None


def announcement_needed(paths: WarehousePaths) -> tuple[bool, dict[str, Any]]:
    """Whether the lake changed since landing last announced it, and the current watermark."""
    current = lake_watermark(paths)
    last = _watermark_of(_read_json(paths.state / "last_announced.json"))
    return current["manifests"] > 0 and current != last, current


def record_announced(paths: WarehousePaths, watermark: dict[str, Any]) -> None:
    """Remember the watermark landing announced (``state/last_announced.json``)."""
    _write_json(
        paths.state / "last_announced.json",
        {"at": datetime.now(UTC).isoformat(timespec="seconds"), "watermark": watermark},
    )


def record_built(paths: WarehousePaths, watermark: dict[str, Any], run_date: str | None) -> None:
    """Remember the watermark the last published build read (``state/last_built.json``)."""
    _write_json(
        paths.state / "last_built.json",
        {"at": datetime.now(UTC).isoformat(timespec="seconds"), "watermark": watermark, "run_date": run_date},
    )


def build_is_behind(paths: WarehousePaths) -> tuple[bool, dict[str, Any]]:
    """Whether the lake holds files the last published build did not read."""
    current = lake_watermark(paths)
    built = _watermark_of(_read_json(paths.state / "last_built.json"))
    return current["manifests"] > 0 and current != built, current


def release_dbt_duckdb(project_dir: str | None = None, **_: Any) -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process dbt run.

    Cosmos calls this after every dbt command (its ``callback``). With ``InvocationMode.DBT_RUNNER``
    dbt runs inside the task's process and dbt-duckdb caches its connection at class level; the
    file stays open (and locked) until the process ends. Under a real executor every task is its
    own process, but ``airflow dags test`` runs all tasks in one process, where the audit would
    then fail to open the build file. A no-op when dbt never ran in this process.
    """
    import gc
    import sys

    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    manager = getattr(connections, "DuckDBConnectionManager", None)
    if manager is None:
        return
    environment = getattr(manager, "_ENV", None)
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    manager.close_all_connections()
    gc.collect()


# --------------------------------------------------------------------------------------------
# counts for task logs


def describe_landing(report: Any) -> list[str]:
    """Task-log lines of a landing report: files by outcome, events landed, quarantine by reason."""
    lines = [f"landing: {report.summary()}"]
    quarantined = dict(sorted(report.events_quarantined.items()))
    lines.append(
        "counts: "
        f"files_seen={report.files_seen} files_landed={report.files_landed} "
        f"files_already_landed={report.files_already_landed} files_quarantined={report.files_quarantined} "
        f"events_landed={report.events_landed} events_quarantined={sum(quarantined.values())}"
    )
    for reason, count in quarantined.items():
        lines.append(f"quarantined reason={reason} count={count}")
    for record in report.files:
        if record.get("outcome") in {"unreadable", "failed"}:
            lines.append(
                f"file {record.get('source_name')}: {record.get('outcome')} {record.get('detail', '')}"
            )
    return lines


def table_row_counts(database: Path, schemas: tuple[str, ...] = ("marts",)) -> dict[str, int]:
    """``schema.table`` → exact row count for every table of ``schemas`` in a DuckDB file."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where schema_name in ({', '.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in tables:
            row = connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def lake_event_count(paths: WarehousePaths) -> int:
    """Rows in the lake's event files (a metadata-only Parquet count)."""
    pattern = paths.lake / "events" / "**" / "*.parquet"
    with duckdb.connect() as connection:
        row = connection.execute(
            f"select coalesce(sum(num_rows), 0) from parquet_file_metadata('{pattern}')"
        ).fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------------------------
# the build's first step


@dataclass(frozen=True)
class BuildInputs:
    """What the build is about to read."""

    watermark: dict[str, Any]
    lake_files: int
    lake_events: int

    def describe(self) -> str:
        return (
            f"build input: {self.watermark['manifests']} landed files (watermark {self.watermark['digest']}), "
            f"{self.lake_files} lake partition files, {self.lake_events} landed event rows"
        )


def check_build_inputs(paths: WarehousePaths, manifest: Path) -> BuildInputs:
    """Check that a build can start and say what it will read.

    Raises :class:`NothingToBuild` when nothing was landed yet and ``FileNotFoundError`` (with the
    fix) when the dbt manifest is missing; creates the build folder when it is missing.
    """
    if not manifest.exists():
        raise FileNotFoundError(
            f"the dbt manifest {manifest} is missing: run `dbt parse` in dbt_project/ (or `gw build`)"
        )
    events = paths.lake / "events"
    files = sum(1 for _ in events.rglob("*.parquet")) if events.is_dir() else 0
    if files == 0:
        raise NothingToBuild(f"nothing landed in {paths.lake} yet: put capture files in {paths.inbox}")
    paths.build_db.parent.mkdir(parents=True, exist_ok=True)
    return BuildInputs(watermark=lake_watermark(paths), lake_files=files, lake_events=lake_event_count(paths))


# --------------------------------------------------------------------------------------------
# the daily full audit's lake reconciliation


@dataclass
class LakeAudit:
    """Findings of :func:`reconcile_lake`; ``problems`` block, ``warnings`` only alert."""

    manifests: int = 0
    partition_files: int = 0
    problems: list[str] | None = None
    warnings: list[str] | None = None
    quarantined_by_reason: dict[str, int] | None = None

    def describe(self) -> list[str]:
        lines = [
            f"lake: {self.manifests} manifests, {self.partition_files} partition files; "
            f"{len(self.problems or [])} problems, {len(self.warnings or [])} warnings"
        ]
        for reason, count in sorted((self.quarantined_by_reason or {}).items()):
            lines.append(f"quarantined reason={reason} count={count}")
        lines += [f"problem: {p}" for p in self.problems or []]
        lines += [f"warning: {w}" for w in self.warnings or []]
        return lines


def reconcile_lake(
    paths: WarehousePaths, *, now: datetime | None = None, backlog_after: timedelta = timedelta(hours=1)
) -> LakeAudit:
    """Every manifest's partitions are present and every partition file has a manifest; the inbox
    has no old backlog; no interrupted landing is left behind; quarantine counted by reason."""
    moment = now or datetime.now(UTC)
    audit = LakeAudit(problems=[], warnings=[], quarantined_by_reason={})
    assert audit.problems is not None and audit.warnings is not None
    manifest_dir = paths.lake / "_manifest"
    manifests: dict[str, dict[str, Any]] = {}
    if manifest_dir.is_dir():
        for path in sorted(manifest_dir.glob("*.json")):
            record = _read_json(path)
            if record is None:
                audit.problems.append(f"{path}: unreadable manifest")
                continue
            manifests[path.stem] = record
    audit.manifests = len(manifests)
    partitions = sorted((paths.lake / "events").glob("project_id=*/event_date=*/*.parquet"))
    audit.partition_files = len(partitions)
    by_hash: dict[str, list[Path]] = {}
    for path in partitions:
        by_hash.setdefault(path.stem, []).append(path)
    for source_hash in sorted(set(by_hash) - set(manifests)):
        audit.problems.append(f"partition files of {source_hash} have no manifest (interrupted landing?)")
    for source_hash, record in manifests.items():
        expected = record.get("partitions")
        if isinstance(expected, list):
            for relative in expected:
                if not (paths.lake / str(relative)).exists():
                    audit.problems.append(f"manifest {source_hash}: partition {relative} is missing")
        elif int(record.get("events_landed") or 0) > 0 and source_hash not in by_hash:
            audit.problems.append(f"manifest {source_hash}: no partition files for its events")
    staging = paths.lake / "_staging"
    if staging.is_dir():
        leftovers = sorted(p.name for p in staging.iterdir())
        if leftovers:
            audit.warnings.append(
                f"{len(leftovers)} interrupted landing(s) in {staging}; the next landing undoes them"
            )
    if paths.inbox.is_dir():
        cutoff = (moment - backlog_after).timestamp()
        old = [
            p
            for p in paths.inbox.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime < cutoff
        ]
        if old:
            audit.warnings.append(
                f"{len(old)} inbox file(s) older than {backlog_after} are not landed yet, e.g. {old[0]}"
            )
    quarantine = paths.quarantine / "events"
    if quarantine.is_dir() and any(quarantine.glob("*.parquet")):
        with duckdb.connect() as connection:
            audit.quarantined_by_reason = {
                str(reason): int(count)
                for reason, count in connection.execute(
                    f"select reason, count(*) from read_parquet('{quarantine}/*.parquet') group by reason"
                ).fetchall()
            }
    return audit
