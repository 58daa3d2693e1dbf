"""The small fixes that came with the incremental models: a full disk during `gw land` is one clear
line, builds keep dbt's artifacts under their warehouse home, a crashed publish's temp file is
cleaned up by the next publish, and a build run by the DAGs' Cosmos group shows in `gw status`."""

from __future__ import annotations

import errno
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from gw.config import WarehousePaths, warehouse_paths

runner = CliRunner()


def test_gw_land_on_a_full_disk_prints_one_line_naming_the_path_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gw import cli, pipeline
    from loaders.lake import LakeWriteError

    full = tmp_path / "home" / "lake" / "_staging" / "abc" / "1_2026-10-01.parquet"

    def disk_full(*_: object, **__: object) -> None:
        raise LakeWriteError(full, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(pipeline, "land", disk_full)
    result = runner.invoke(cli.app, ["land", "--home", str(tmp_path / "home")])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code not in (0, None)
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert f"cannot write {full}: [Errno 28] No space left on device" in " ".join(text.split())
    assert "gw land" in text  # says what to do next


def test_builds_write_dbt_artifacts_under_the_warehouse_home_and_parse_into_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gw import dbt

    calls: list[list[str]] = []

    def fake_run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(dbt.subprocess, "run", fake_run)
    monkeypatch.setattr(dbt, "compile_insights", lambda: False)
    monkeypatch.delenv("DBT_LOG_PATH", raising=False)
    paths = warehouse_paths(tmp_path / "home")
    dbt.run_dbt(paths, ["build"])
    args = calls[-1]
    assert args[args.index("--target-path") + 1] == str(paths.home / "dbt" / "target")
    assert args[args.index("--log-path") + 1] == str(paths.home / "dbt" / "logs")
    assert str(dbt.DBT_PROJECT_DIR / "target") not in args

    monkeypatch.setattr(dbt, "manifest_is_stale", lambda: True)
    dbt.ensure_manifest(paths)
    parse = calls[-1]
    assert parse[1] == "parse"
    assert parse[parse.index("--target-path") + 1] == str(dbt.PROJECT_TARGET_PATH), (
        "Cosmos reads this manifest"
    )


def _build_file_with_a_mart(paths: WarehousePaths) -> None:
    paths.ensure()
    with duckdb.connect(str(paths.build_db)) as connection:
        connection.execute("create schema marts; create table marts.fct_x as select 1 as x")


def test_a_publish_removes_the_temp_files_a_crashed_publish_left(tmp_path: Path) -> None:
    from gw.publish import publish

    paths = warehouse_paths(tmp_path / "home")
    _build_file_with_a_mart(paths)
    crashed = paths.published_db.parent / ".publishing-k1ll3d.duckdb"
    crashed.write_bytes(b"half a database")
    crashed.with_name(crashed.name + ".wal").write_bytes(b"wal")
    unrelated = paths.published_db.parent / "notes.txt"
    unrelated.write_text("keep me")

    result = publish(paths)

    assert result.tables == {"fct_x": 1}
    assert sorted(p.name for p in paths.published_db.parent.iterdir()) == ["notes.txt", "warehouse.duckdb"]
    with duckdb.connect(str(paths.published_db), read_only=True) as published:
        assert published.execute("select x from marts.fct_x").fetchall() == [(1,)]


def test_the_dag_build_group_records_the_build_so_gw_status_shows_it(tmp_path: Path) -> None:
    from dags.tasks import record_dbt_group_build
    from gw import cli
    from gw.pipeline import warehouse_status

    paths = warehouse_paths(tmp_path / "home").ensure()
    assert warehouse_status(paths).last["build"] is None
    context = {
        "dag_run": SimpleNamespace(
            dag_id="gw_build",
            run_id="asset_triggered__2026-10-11T09:00:00+00:00",
            logical_date=None,
            run_after=datetime(2026, 10, 11, 9, tzinfo=UTC),
        ),
        "params": {"full_refresh": True},
    }

    record_dbt_group_build(paths, context, {"marts.fct_events": 10, "marts.dim_groups": 2})

    build = warehouse_status(paths).last["build"]
    assert build is not None
    assert build["run_date"] == "2026-10-11" and build["full_refresh"] is True
    assert build["by"] == "airflow gw_build asset_triggered__2026-10-11T09:00:00+00:00"
    shown = runner.invoke(cli.app, ["status", "--home", str(paths.home)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    build_line = next(line for line in shown.output.splitlines() if "│ build" in line)
    assert "never" not in build_line and "run_date 2026-10-11" in build_line
