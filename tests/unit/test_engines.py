"""The build engine is a setting, and Spark's marts reach the audit through the DuckDB build file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gw.config import warehouse_paths
from gw.engines import dbt_target, stage_marts_for_audit


def test_the_engine_defaults_to_duckdb_and_follows_gw_dbt_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_DBT_TARGET", raising=False)
    assert dbt_target() == "duckdb"
    monkeypatch.setenv("GW_DBT_TARGET", "spark")
    assert dbt_target() == "spark"


def test_staging_does_nothing_on_duckdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_DBT_TARGET", raising=False)
    paths = warehouse_paths(tmp_path).ensure()
    assert stage_marts_for_audit(paths) == []
    assert not paths.build_db.exists()


def test_sparks_mart_tables_replace_the_build_files_marts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GW_DBT_TARGET", "spark")
    monkeypatch.delenv("GW_SPARK_WAREHOUSE_DIR", raising=False)
    paths = warehouse_paths(tmp_path).ensure()
    table = tmp_path / "spark" / "warehouse" / "marts.db" / "dim_group_types"
    table.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select 1::bigint as project_id, 'company' as group_type) "
            f"to '{table / 'part-00000.parquet'}' (format parquet)"
        )
    paths.build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.build_db)) as connection:  # a stale table from an earlier build
        connection.execute("create schema marts; create table marts.dim_group_types as select 9 as stale")

    monkeypatch.setattr("gw.dbt.run_dbt", lambda *args, **kwargs: None)  # staging views: not here
    assert stage_marts_for_audit(paths) == ["marts.dim_group_types"]
    with duckdb.connect(str(paths.build_db), read_only=True) as connection:
        assert connection.execute("select * from marts.dim_group_types").fetchall() == [(1, "company")]


def test_staging_fails_when_spark_built_no_marts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_DBT_TARGET", "spark")
    monkeypatch.setenv("GW_SPARK_WAREHOUSE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(RuntimeError, match="Spark built no marts"):
        stage_marts_for_audit(warehouse_paths(tmp_path).ensure())
