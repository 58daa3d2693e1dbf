"""Which engine dbt builds on, and how the audit and publish steps reach what it built.

The engine is a setting, not code: ``GW_DBT_TARGET`` picks the dbt target of ``profiles.yml``
(``duckdb``, the default, or ``spark``); ``gw`` and the Airflow DAGs (Cosmos' ``ProfileConfig``)
both read it. The audit (GX) and the publish step work on the DuckDB build file. On DuckDB dbt
writes the marts there itself; on Spark the marts are Parquet tables under the Spark warehouse
directory, and :func:`stage_marts_for_audit` copies them into the build file's schema ``marts``
first, so the write → audit → publish path is the same for both engines.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from gw.config import WarehousePaths

DEFAULT_TARGET = "duckdb"
MARTS_SCHEMA = "marts"


def dbt_target() -> str:
    """The dbt target the warehouse builds with (``GW_DBT_TARGET``, default ``duckdb``)."""
    return os.environ.get("GW_DBT_TARGET", "").strip() or DEFAULT_TARGET


def spark_warehouse_dir(paths: WarehousePaths) -> Path:
    """Where Spark keeps the tables it builds (``spark.sql.warehouse.dir`` of the profile)."""
    configured = os.environ.get("GW_SPARK_WAREHOUSE_DIR", "").strip()
    return Path(configured) if configured else paths.home / "spark" / "warehouse"


def spark_table_folder(paths: WarehousePaths, schema: str, table: str) -> Path:
    """The folder of Parquet files of one Spark table (a managed table of the Hive catalog)."""
    return spark_warehouse_dir(paths) / f"{schema}.db" / table


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: The Spark schemas whose tables the audit reads (the GX suites check the marts, and the
#: properties suite re-folds the deduplicated events of ``intermediate``).
AUDITED_SCHEMAS = ("intermediate", MARTS_SCHEMA)


def stage_marts_for_audit(paths: WarehousePaths) -> list[str]:
    """Copy what the build engine wrote, and the audit reads, into the DuckDB build file.

    Nothing to do on DuckDB (dbt wrote it there). On Spark every table folder of the
    :data:`AUDITED_SCHEMAS` replaces the build file's table of the same name, and the staging
    views (which only read the lake and the request files) are created on DuckDB by dbt itself
    (``dbt run --select path:models/staging --target duckdb``). Returns the tables copied
    (``schema.table``).
    """
    if dbt_target() != "spark":
        return []
    from gw.dbt import run_dbt

    copied: list[str] = []
    paths.build_db.parent.mkdir(parents=True, exist_ok=True)
    marts = spark_warehouse_dir(paths) / f"{MARTS_SCHEMA}.db"
    if not marts.is_dir() or not any(path.is_dir() for path in marts.iterdir()):
        raise RuntimeError(
            f"Spark built no marts under {marts}: run the dbt build with the spark target first"
        )
    with duckdb.connect(str(paths.build_db)) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for schema in AUDITED_SCHEMAS:
            folder = spark_warehouse_dir(paths) / f"{schema}.db"
            tables = (
                sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []
            )
            connection.execute(f"create schema if not exists {schema}")
            for table in tables:
                files = _sql_string(str(folder / table / "**" / "*.parquet"))
                connection.execute(
                    f'create or replace table {schema}."{table}" as select * from read_parquet({files})'
                )
                copied.append(f"{schema}.{table}")
    run_dbt(paths, ["run", "--select", "path:models/staging", "--target", DEFAULT_TARGET])
    return copied
