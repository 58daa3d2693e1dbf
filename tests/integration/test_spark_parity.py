"""The same dbt project on Apache Spark gives the same marts as on DuckDB, row for row.

One seeded sample (every capture shape, both demo projects and their time zones, Europe/Berlin and
America/New_York, and one group deletion request so the detach path runs) is landed once; dbt
builds it with the default DuckDB target and with the ``spark`` target (dbt-spark, ``method:
session``, ``local[2]``) reading the same Parquet lake. Every table of schema ``marts`` that DuckDB
builds must exist on Spark with the same columns and the same rows:

* rows are compared as multisets, sorted by every column;
* floating point values agree within a relative tolerance of 1e-9 (absolute 1e-12 near zero);
* timestamps are compared as naive UTC (Spark's session time zone is UTC; an instant Spark
  writes as ``TIMESTAMP WITH TIME ZONE`` is converted to UTC first);
* JSON text (properties) is compared as parsed JSON with integral numbers as integers: Spark
  re-serialises parsed numbers canonically (``5.0`` → ``5``), the JSON is the same.

Spark's tables are Parquet files under ``$WAREHOUSE_HOME/spark/warehouse/<schema>.db/<table>``;
they are read back with DuckDB, so no second Spark session is needed.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import run_dbt
from gw.deletion import request_group_deletion
from gw.generator import GeneratorSettings, generate
from gw.pipeline import land

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Small enough for a 2-core CI runner: Spark's cost here is per query (JVM, planning, shuffles),
#: not per row.
SAMPLE = GeneratorSettings(events=1_500, groups=6, persons=30, days=8, seed=11)
RUN_DATE = date(2026, 10, 9)
#: Seeds and models on both engines (the data tests run in the DuckDB CI jobs; on Spark each test is
#: a Spark job of its own, minutes in all on 2 cores).
BUILD = ("build", "--resource-type", "seed", "--resource-type", "model")
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ParityBuild:
    paths: WarehousePaths
    duckdb_seconds: float
    spark_seconds: float

    @property
    def spark_tables(self) -> Path:
        return self.paths.home / "spark" / "warehouse"


def _have_java() -> bool:
    from shutil import which

    return which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def parity_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParityBuild]:
    pytest.importorskip("pyspark")
    pytest.importorskip("dbt.adapters.spark")
    if not _have_java():
        pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)")
    paths = warehouse_paths(tmp_path_factory.mktemp("spark-parity")).ensure()
    paths.write_demo_projects()
    generate(paths.inbox, SAMPLE)
    land(paths)
    with duckdb.connect() as connection:
        company = connection.execute(
            f"""
            select json_extract_string(groups, '$.company')
            from read_parquet('{paths.lake}/events/**/*.parquet', hive_partitioning = true)
            where project_id = 1 and coalesce(json_extract_string(groups, '$.company'), '') <> ''
            order by 1
            limit 1
            """
        ).fetchone()
    assert company is not None, "the sample has no company to delete"
    request_group_deletion(
        paths, 1, "company", company[0], requested_by="parity test", now=datetime(2026, 10, 8, tzinfo=UTC)
    )
    dbt_vars = {"run_date": RUN_DATE.isoformat()}
    previous = os.environ.get("WAREHOUSE_HOME")
    os.environ["WAREHOUSE_HOME"] = str(paths.home)
    try:
        started = time.perf_counter()
        run_dbt(paths, [*BUILD], dbt_vars=dbt_vars, target_path=paths.home / "target-duckdb")
        duckdb_seconds = time.perf_counter() - started
        started = time.perf_counter()
        run_dbt(
            paths,
            [*BUILD, "--target", "spark"],
            dbt_vars=dbt_vars,
            target_path=paths.home / "target-spark",
        )
        spark_seconds = time.perf_counter() - started
    finally:
        if previous is None:
            os.environ.pop("WAREHOUSE_HOME", None)
        else:
            os.environ["WAREHOUSE_HOME"] = previous
    print(f"\nbuild time, same sample: DuckDB {duckdb_seconds:.1f} s, Spark local {spark_seconds:.1f} s")
    yield ParityBuild(paths=paths, duckdb_seconds=duckdb_seconds, spark_seconds=spark_seconds)


def _public_marts(paths: WarehousePaths) -> list[str]:
    with duckdb.connect(str(paths.build_db), read_only=True) as connection:
        rows = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    return [row[0] for row in rows]


def _integral(number: float) -> int | float:
    return int(number) if math.isfinite(number) and number == int(number) else number


def _canonical_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical_json(item) for item in value]
    if isinstance(value, float):
        return _integral(value)
    return value


def _normalise(value: Any) -> Any:
    """One cell in a comparable form (see the module docstring)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return tuple(_normalise(item) for item in value)
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return "json:" + json.dumps(_canonical_json(parsed), sort_keys=True)
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # floats rounded for ordering only (the comparison itself uses the tolerance); None first
    return tuple(
        (0, "") if cell is None else (1, round(cell, 6) if isinstance(cell, float) else cell) for cell in row
    )


def _rows(connection: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[tuple[Any, ...]]:
    select = ", ".join(f'"{column}"' for column in columns)
    rows = [
        tuple(_normalise(cell) for cell in row)
        for row in connection.execute(f"select {select} from {relation}").fetchall()
    ]
    return sorted(rows, key=lambda row: tuple(str(part) for part in _sort_key(row)))


def _cells_agree(left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(_cells_agree(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _spark_relation(build: ParityBuild, table: str) -> str:
    folder = build.spark_tables / "marts.db" / table
    return f"read_parquet('{folder}/**/*.parquet')"


def test_spark_builds_every_public_mart_of_duckdb(parity_build: ParityBuild) -> None:
    marts = _public_marts(parity_build.paths)
    assert len(marts) >= 20, marts
    missing = [table for table in marts if not (parity_build.spark_tables / "marts.db" / table).is_dir()]
    assert not missing, f"marts DuckDB builds but Spark did not: {missing}"


def test_every_public_mart_is_the_same_on_spark_and_duckdb(parity_build: ParityBuild) -> None:
    differences: list[str] = []
    with duckdb.connect(str(parity_build.paths.build_db), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table in _public_marts(parity_build.paths):
            spark_relation = _spark_relation(parity_build, table)
            duck_columns = [
                row[0]
                for row in connection.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            spark_columns = [
                row[0] for row in connection.execute(f"describe select * from {spark_relation}").fetchall()
            ]
            if duck_columns != spark_columns:
                differences.append(f"{table}: columns differ: duckdb {duck_columns} vs spark {spark_columns}")
                continue
            duck_rows = _rows(connection, f"marts.{table}", duck_columns)
            spark_rows = _rows(connection, spark_relation, duck_columns)
            if len(duck_rows) != len(spark_rows):
                differences.append(f"{table}: {len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark")
                continue
            for number, (duck_row, spark_row) in enumerate(zip(duck_rows, spark_rows, strict=True)):
                if not all(_cells_agree(a, b) for a, b in zip(duck_row, spark_row, strict=True)):
                    detail = {
                        column: (a, b)
                        for column, a, b in zip(duck_columns, duck_row, spark_row, strict=True)
                        if not _cells_agree(a, b)
                    }
                    differences.append(f"{table}: sorted row {number} differs (duckdb, spark): {detail}")
                    break
    assert not differences, "\n".join(differences)


def test_the_comparison_tells_engines_apart_beyond_the_tolerance() -> None:
    # guards the guard: equal JSON with other number text agrees, other values do not
    assert _normalise('{"b":5.0,"a":[1]}') == _normalise('{"a":[1],"b":5}')
    assert _normalise('{"a":"5"}') != _normalise('{"a":5}')
    assert _cells_agree(1.0, 1.0 + 1e-12)
    assert not _cells_agree(1.0, 1.0 + 1e-6)
    assert not _cells_agree(None, 0.0)
    assert _normalise(datetime(2026, 10, 1, 12, tzinfo=UTC)) == datetime(2026, 10, 1, 12)
