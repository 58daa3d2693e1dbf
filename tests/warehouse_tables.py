"""Comparing whole warehouses in tests: every table's rows, order-independent.

Columns that record *when* something was landed (``loaded_at``, ``quarantined_at``) differ between
two landings of the same bytes by design; they are left out so that two warehouses built from the
same input compare equal.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

LOAD_TIME_COLUMNS = frozenset({"loaded_at", "quarantined_at"})


def table_rows(
    database: Path, schemas: tuple[str, ...] = ("marts",), ignore: frozenset[str] = LOAD_TIME_COLUMNS
) -> dict[str, list[tuple[object, ...]]]:
    """``schema.table`` → its rows (sorted, load-time columns dropped) for every table of ``schemas``."""
    tables: dict[str, list[tuple[object, ...]]] = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        names = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where schema_name in ({', '.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in names:
            columns = [
                row[0]
                for row in connection.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, table],
                ).fetchall()
                if row[0] not in ignore
            ]
            selected = ", ".join(f'"{c}"' for c in columns)
            rows = connection.execute(f'select {selected} from "{schema}"."{table}"').fetchall()
            tables[f"{schema}.{table}"] = sorted(rows, key=repr)
    return tables


def table_digests(database: Path, schemas: tuple[str, ...] = ("marts",)) -> dict[str, str]:
    """``schema.table`` → sha256 of its sorted rows (load-time columns dropped)."""
    return {
        name: f"{len(rows)}:{hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}"
        for name, rows in table_rows(database, schemas).items()
    }


def differing_tables(
    left: Path, right: Path, schemas: tuple[str, ...] = ("marts",)
) -> dict[str, tuple[str, str]]:
    """Tables whose digests differ (or exist on one side only): name → (left, right)."""
    a, b = table_digests(left, schemas), table_digests(right, schemas)
    return {
        name: (a.get(name, "-"), b.get(name, "-"))
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    }
