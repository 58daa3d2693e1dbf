"""The plain functions behind the Airflow tasks: watermarks, announcements, the lake reconciliation
of the daily audit, the build's input check."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gw.config import WarehousePaths, warehouse_paths
from gw.orchestration import (
    NothingToBuild,
    announcement_needed,
    build_is_behind,
    check_build_inputs,
    lake_watermark,
    reconcile_lake,
    record_announced,
    record_built,
    release_dbt_duckdb,
)


@pytest.fixture
def paths(tmp_path: Path) -> WarehousePaths:
    return warehouse_paths(tmp_path).ensure()


def _land(
    paths: WarehousePaths, source_hash: str, partitions: list[str] | None = None, rows: int = 3
) -> None:
    """What a finished landing leaves for one file: its partition Parquet, then its manifest."""
    chosen = (
        partitions
        if partitions is not None
        else [f"events/project_id=1/event_date=2026-10-01/{source_hash}.parquet"]
    )
    for relative in chosen:
        target = paths.lake / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"event_uuid": [f"{source_hash}-{i}" for i in range(rows)]}), target)
    manifest = paths.lake / "_manifest" / f"{source_hash}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"source_hash": source_hash, "events_landed": rows, "partitions": chosen}))


def test_the_watermark_changes_exactly_when_a_file_is_landed(paths: WarehousePaths) -> None:
    empty = lake_watermark(paths)
    assert empty["manifests"] == 0
    _land(paths, "a" * 64)
    first = lake_watermark(paths)
    assert first["manifests"] == 1 and first != empty
    assert lake_watermark(paths) == first
    _land(paths, "b" * 64)
    assert lake_watermark(paths)["manifests"] == 2


def test_landing_announces_new_files_once_even_after_a_crash_before_announcing(paths: WarehousePaths) -> None:
    assert announcement_needed(paths)[0] is False  # an empty lake is never announced
    _land(paths, "a" * 64)  # landed, then the process died before the announcement
    needed, watermark = announcement_needed(paths)
    assert needed
    record_announced(paths, watermark)
    assert announcement_needed(paths)[0] is False
    _land(paths, "b" * 64)
    assert announcement_needed(paths)[0] is True


def test_the_audit_requests_a_build_when_the_last_publish_did_not_read_the_whole_lake(
    paths: WarehousePaths,
) -> None:
    _land(paths, "a" * 64)
    behind, watermark = build_is_behind(paths)
    assert behind
    record_built(paths, watermark, "2026-10-11")
    assert build_is_behind(paths)[0] is False
    _land(paths, "b" * 64)
    assert build_is_behind(paths)[0] is True


def test_the_build_input_check_skips_an_empty_lake_and_names_a_missing_manifest(
    paths: WarehousePaths, tmp_path: Path
) -> None:
    manifest = tmp_path / "target" / "manifest.json"
    with pytest.raises(FileNotFoundError, match="dbt parse"):
        check_build_inputs(paths, manifest)
    manifest.parent.mkdir()
    manifest.write_text("{}")
    with pytest.raises(NothingToBuild):
        check_build_inputs(paths, manifest)
    _land(paths, "a" * 64, rows=5)
    paths.build_db.parent.rmdir()
    inputs = check_build_inputs(paths, manifest)
    assert (inputs.lake_files, inputs.lake_events) == (1, 5)
    assert paths.build_db.parent.is_dir(), "a missing build folder is recreated"
    assert "5 landed event rows" in inputs.describe()


def test_the_lake_reconciliation_finds_orphans_missing_partitions_and_backlog(paths: WarehousePaths) -> None:
    _land(paths, "a" * 64)
    assert reconcile_lake(paths).problems == []
    # partitions without a manifest: an interrupted landing
    orphan = paths.lake / "events" / "project_id=1" / "event_date=2026-10-02" / f"{'c' * 64}.parquet"
    orphan.parent.mkdir(parents=True)
    pq.write_table(pa.table({"event_uuid": ["x"]}), orphan)
    # a manifest whose partition disappeared
    _land(paths, "d" * 64)
    (paths.lake / "events" / "project_id=1" / "event_date=2026-10-01" / f"{'d' * 64}.parquet").unlink()
    # an inbox file waiting for two hours
    waiting = paths.inbox / "old.json"
    waiting.write_text("{}")
    two_hours_ago = time.time() - 7200
    os.utime(waiting, (two_hours_ago, two_hours_ago))
    audit = reconcile_lake(paths, now=datetime.now(UTC), backlog_after=timedelta(hours=1))
    assert audit.problems is not None and audit.warnings is not None
    assert any("c" * 64 in p and "no manifest" in p for p in audit.problems)
    assert any("d" * 64 in p and "missing" in p for p in audit.problems)
    assert any("old.json" in w for w in audit.warnings)


def test_releasing_dbt_duckdb_is_a_no_op_when_dbt_never_ran_here() -> None:
    release_dbt_duckdb("/nowhere")
