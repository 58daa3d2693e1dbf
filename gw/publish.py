"""Publishing: copy the audited marts into the read-only file BI tools open, atomically.

The published file is written beside its final path under a temporary name, flushed, and moved
into place with ``os.replace``. A reader that has the old file open keeps reading the old
(complete) file; a reader that opens afterwards sees the new one. There is never a moment at which
``published/warehouse.duckdb`` is missing or half written.

A publish holds an exclusive lock on ``state/publish.lock`` while it works, so a
``.publishing-*.duckdb`` file found under that lock was left by a publish that crashed before its
rename: it is removed at the start of the next publish (:func:`remove_stale_temp_files`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gw.config import WarehousePaths

PUBLISHED_SCHEMA = "marts"
TEMP_PREFIX = ".publishing-"
TEMP_SUFFIX = ".duckdb"
LOCK_NAME = "publish.lock"


@dataclass(frozen=True)
class PublishResult:
    """What was published: the file and each mart's row count."""

    path: Path
    tables: dict[str, int]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextmanager
def _publish_lock(paths: WarehousePaths) -> Iterator[None]:
    """Hold the warehouse's exclusive publish lock (blocks while another publish runs)."""
    paths.state.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.state / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the ``.publishing-*.duckdb`` files (and their ``.wal``) a crashed publish left in
    ``folder``. Call only under the publish lock. Returns what was removed."""
    removed: list[Path] = []
    for leftover in sorted(folder.glob(f"{TEMP_PREFIX}*")):
        if leftover.name.endswith((TEMP_SUFFIX, TEMP_SUFFIX + ".wal")) and leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def publish(paths: WarehousePaths) -> PublishResult:
    """Copy every table and view of schema ``marts`` in the build file into a new published file."""
    if not paths.build_db.exists():
        raise FileNotFoundError(f"{paths.build_db} does not exist: run `gw build` first")
    target = paths.published_db
    target.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(paths):
        remove_stale_temp_files(target.parent)
        return _publish_locked(paths, target)


def _publish_locked(paths: WarehousePaths, target: Path) -> PublishResult:
    handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(handle)
    os.unlink(temp_name)  # DuckDB must create the file itself
    temp_path = Path(temp_name)
    tables: dict[str, int] = {}
    try:
        with duckdb.connect() as build:
            build.execute(f"attach {_sql_string(str(paths.build_db))} as build (read_only)")
            build.execute("use build")
            names = [
                row[0]
                for row in build.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = 'build' and table_schema = ? order by table_name",
                    [PUBLISHED_SCHEMA],
                ).fetchall()
            ]
            if not names:
                raise RuntimeError(f"{paths.build_db} has no tables in schema {PUBLISHED_SCHEMA!r}")
            build.execute(f"attach {_sql_string(str(temp_path))} as published")
            build.execute(f"create schema published.{PUBLISHED_SCHEMA}")
            for name in names:
                qualified = f"{PUBLISHED_SCHEMA}.{_quote(name)}"
                build.execute(f"create table published.{qualified} as select * from {qualified}")
                count = build.execute(f"select count(*) from published.{qualified}").fetchone()
                tables[name] = int(count[0]) if count else 0
            build.execute("checkpoint published")
            build.execute("detach published")
        with open(temp_path, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp_path, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        for leftover in (temp_path, temp_path.with_name(temp_path.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return PublishResult(path=target, tables=tables)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
