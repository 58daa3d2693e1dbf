"""Writing the lake: staged event partitions, quarantine, manifest, projects, archive.

Crash safety (see ``docs/contracts.md``): a file's events are written to
``lake/_staging/<hash>/`` first, its quarantine to a temp name; then :meth:`FileStage.commit`
records the target partition files in ``_staging/<hash>/partitions.json`` and moves each staged
file into ``lake/events/project_id=…/event_date=…/<hash>.parquet`` (``os.replace``); then the
manifest is written atomically; then the staging folder is removed and the inbox file archived.
:func:`recover_staging` (run at the start of every landing) undoes a commit that never reached
its manifest, so a crash at any point leaves either the whole file landed or none of it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gw.config import ProjectsConfig, WarehousePaths
from loaders.normalize import EventRows, QuarantineRows

_TS = pa.timestamp("us")

#: Columns of every ``lake/events/**/<hash>.parquet`` file; ``project_id`` and ``event_date``
#: are Hive partition columns (in the path, not in the file).
EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_uuid", pa.string(), nullable=False),
        pa.field("event", pa.string(), nullable=False),
        pa.field("distinct_id", pa.string(), nullable=False),
        pa.field("timestamp", _TS, nullable=False),
        pa.field("sent_at", _TS),
        pa.field("received_at", _TS, nullable=False),
        pa.field("properties", pa.string(), nullable=False),
        pa.field("groups", pa.string(), nullable=False),
        pa.field("person_set", pa.string()),
        pa.field("person_set_once", pa.string()),
        pa.field("group_type", pa.string()),
        pa.field("group_key", pa.string()),
        pa.field("group_set", pa.string()),
        pa.field("source_hash", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("source_row", pa.int32(), nullable=False),
        pa.field("loaded_at", _TS, nullable=False),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_hash", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("source_row", pa.int32()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("raw", pa.string()),
        pa.field("quarantined_at", _TS, nullable=False),
    ]
)

PROJECTS_SCHEMA = pa.schema(
    [
        pa.field("project_id", pa.int64(), nullable=False),
        pa.field("project_name", pa.string(), nullable=False),
        pa.field("timezone", pa.string(), nullable=False),
    ]
)

_PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


class LakeWriteError(RuntimeError):
    """The warehouse home cannot be written (permissions, disk full...). Names the path."""

    def __init__(self, path: Path, exc: BaseException) -> None:
        super().__init__(f"cannot write {path}: {exc}")
        self.path = path


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except LakeWriteError:
        raise
    except OSError as exc:
        raise LakeWriteError(path, exc) from exc


def naive_utc(value: datetime) -> datetime:
    """An aware datetime as naive UTC (the lake's timestamp convention)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync and rename."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_table_atomic(path: Path, table: pa.Table) -> None:
    """Write a Parquet file through a temp name in the same folder."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            pq.write_table(table, tmp, **_PARQUET_OPTIONS)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


# --------------------------------------------------------------------------------------------
# events


def partition_path(project_id: int, event_date: date, source_hash: str) -> PurePosixPath:
    """A landed partition file, relative to ``lake/``."""
    return PurePosixPath(
        "events", f"project_id={project_id}", f"event_date={event_date.isoformat()}", f"{source_hash}.parquet"
    )


def _strings(values: list[bytes] | list[bytes | None]) -> pa.Array:
    return pa.array(values, type=pa.binary()).cast(pa.string())


def epoch_to_timestamps(seconds: list[float] | list[float | None]) -> pa.Array:
    """Float epoch seconds → ``timestamp[us]`` (naive UTC), rounded to the microsecond."""
    micros = pc.round(pc.multiply(pa.array(seconds, type=pa.float64()), 1e6))
    return pc.cast(micros, pa.int64()).view(_TS)


def rows_to_table(
    rows: EventRows, *, source_hash: str, source_name: str, received_at: datetime, loaded_at: datetime
) -> pa.Table:
    """The Arrow table of ``rows`` in :data:`EVENT_SCHEMA` order."""
    n = len(rows)
    received = naive_utc(received_at)
    loaded = naive_utc(loaded_at)
    columns = [
        pa.array(rows.event_uuid, type=pa.string()),
        pa.array(rows.event, type=pa.string()),
        pa.array(rows.distinct_id, type=pa.string()),
        epoch_to_timestamps(rows.timestamp),
        epoch_to_timestamps(rows.sent_at),
        pa.array([received] * n, type=_TS),
        _strings(rows.properties),
        _strings(rows.groups),
        _strings(rows.person_set),
        _strings(rows.person_set_once),
        pa.array(rows.group_type, type=pa.string()),
        pa.array(rows.group_key, type=pa.string()),
        _strings(rows.group_set),
        pa.array([source_hash] * n, type=pa.string()),
        pa.array([source_name] * n, type=pa.string()),
        pa.array(rows.source_row, type=pa.int32()),
        pa.array([loaded] * n, type=_TS),
    ]
    return pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)


_DAY_BIAS = 2**31
_EPOCH_DATE = date(1970, 1, 1)


def split_partitions(table: pa.Table, project_ids: list[int]) -> list[tuple[tuple[int, date], pa.Table]]:
    """``table`` cut into ``((project_id, event_date), rows)`` pieces, keys ascending, rows in
    their original order within a piece."""
    dates = pc.cast(table.column("timestamp"), pa.date32())
    days = pc.cast(
        pa.chunked_array([chunk.view(pa.int32()) for chunk in dates.chunks], pa.int32()), pa.int64()
    )
    keys = pc.add(pc.shift_left(pa.array(project_ids, type=pa.int64()), 32), pc.add(days, _DAY_BIAS))
    unique = pc.unique(keys)

    def decode(key: int) -> tuple[int, date]:
        return key >> 32, _EPOCH_DATE + timedelta(days=(key & 0xFFFFFFFF) - _DAY_BIAS)

    if len(unique) == 1:
        return [(decode(unique[0].as_py()), table)]
    order = pc.sort_indices(keys)  # stable: rows keep their order within a key
    ordered_keys = keys.take(order)
    ordered = table.take(order)
    pieces: list[tuple[tuple[int, date], pa.Table]] = []
    start = 0
    for run_end, value in zip(
        *_run_ends(ordered_keys),
        strict=True,
    ):
        pieces.append((decode(value), ordered.slice(start, run_end - start)))
        start = run_end
    return pieces


def _run_ends(values: pa.ChunkedArray | pa.Array) -> tuple[list[int], list[int]]:
    encoded = pc.run_end_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.run_ends.to_pylist(), encoded.values.to_pylist()


#: Staged tables waiting for the writer thread at most (bounds memory).
_MAX_PENDING_WRITES = 4


@dataclass
class FileStage:
    """Staged output of one source file.

    Parquet encoding runs on a background thread (pyarrow releases the GIL while it encodes and
    compresses), overlapping the Python work of normalising the next chunk.
    """

    lake: Path
    source_hash: str
    source_name: str
    received_at: datetime
    loaded_at: datetime
    _writers: dict[tuple[int, date], pq.ParquetWriter] = field(default_factory=dict)
    _pending: deque[Future[None]] = field(default_factory=deque)
    _executor: ThreadPoolExecutor | None = None
    events: int = 0

    @property
    def folder(self) -> Path:
        return self.lake / "_staging" / self.source_hash

    def __post_init__(self) -> None:
        with _writing(self.folder):
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)

    def _staged(self, key: tuple[int, date]) -> Path:
        return self.folder / f"{key[0]}_{key[1].isoformat()}.parquet"

    def write(self, rows: EventRows) -> None:
        """Append ``rows`` to the staged partition files."""
        if not len(rows):
            return
        table = rows_to_table(
            rows,
            source_hash=self.source_hash,
            source_name=self.source_name,
            received_at=self.received_at,
            loaded_at=self.loaded_at,
        )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-parquet")
        while len(self._pending) >= _MAX_PENDING_WRITES:
            self._pending.popleft().result()
        self._pending.append(self._executor.submit(self._append_all, table, rows.project_id))
        self.events += len(rows)

    def _append_all(self, table: pa.Table, project_ids: list[int]) -> None:
        for key, piece in split_partitions(table, project_ids):
            self._append(key, piece)

    def _drain(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def _append(self, key: tuple[int, date], table: pa.Table) -> None:
        path = self._staged(key)
        with _writing(path):
            writer = self._writers.get(key)
            if writer is None:
                writer = pq.ParquetWriter(path, EVENT_SCHEMA, **_PARQUET_OPTIONS)
                self._writers[key] = writer
            writer.write_table(table, row_group_size=1024 * 1024)

    def _close(self) -> None:
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.close()

    def abort(self) -> None:
        """Drop everything staged for this file."""
        with suppress(Exception):  # the staged output is being thrown away anyway
            self._drain()
        try:
            self._close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self) -> list[str]:
        """Move the staged partition files into ``lake/events``; returns their paths relative
        to ``lake/``, sorted.  The list is first recorded in ``partitions.json`` so that
        :func:`recover_staging` can undo a commit that never got its manifest."""
        self._drain()
        keys = sorted(self._writers)
        with _writing(self.folder):
            self._close()
        targets = [partition_path(pid, day, self.source_hash) for pid, day in keys]
        write_bytes_atomic(self.folder / "partitions.json", orjson.dumps([str(t) for t in targets]))
        for key, target in zip(keys, targets, strict=True):
            staged = self._staged(key)
            destination = self.lake / target
            with _writing(destination):
                _fsync(staged)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, destination)
        return [str(t) for t in targets]


def finish_staging(lake: Path, source_hash: str) -> None:
    """Remove a file's staging folder once its manifest is written."""
    shutil.rmtree(lake / "_staging" / source_hash, ignore_errors=True)


def recover_staging(lake: Path) -> list[str]:
    """Undo commits interrupted before their manifest; remove leftover staging folders.

    Returns the hashes whose partial output was removed.
    """
    staging = lake / "_staging"
    undone: list[str] = []
    if not staging.is_dir():
        return undone
    for folder in sorted(staging.iterdir()):
        if not folder.is_dir():
            folder.unlink(missing_ok=True)
            continue
        source_hash = folder.name
        manifest = manifest_path(lake, source_hash)
        listing = folder / "partitions.json"
        if not manifest.exists() and listing.exists():
            try:
                targets = orjson.loads(listing.read_bytes())
            except orjson.JSONDecodeError:
                targets = []
            for target in targets:
                path = lake / target
                if path.name == f"{source_hash}.parquet":
                    path.unlink(missing_ok=True)
            undone.append(source_hash)
        with _writing(folder):
            shutil.rmtree(folder)
    return undone


# --------------------------------------------------------------------------------------------
# quarantine


@dataclass
class QuarantineWriter:
    """Quarantined rows of one file, flushed to a temp Parquet file in chunks."""

    quarantine: Path
    source_hash: str
    source_name: str
    quarantined_at: datetime
    _writer: pq.ParquetWriter | None = None
    rows: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.quarantine / "events" / f"{self.source_hash}.parquet"

    @property
    def _tmp(self) -> Path:
        return self.path.with_name(f".{self.path.name}.tmp")

    def write(self, rows: QuarantineRows) -> None:
        n = len(rows)
        if not n:
            return
        at = naive_utc(self.quarantined_at)
        table = pa.Table.from_arrays(
            [
                pa.array([self.source_hash] * n, type=pa.string()),
                pa.array([self.source_name] * n, type=pa.string()),
                pa.array(rows.source_row, type=pa.int32()),
                pa.array(rows.reason, type=pa.string()),
                pa.array(rows.detail, type=pa.string()),
                pa.array(rows.raw, type=pa.string()),
                pa.array([at] * n, type=_TS),
            ],
            schema=QUARANTINE_SCHEMA,
        )
        with _writing(self._tmp):
            if self._writer is None:
                self._tmp.parent.mkdir(parents=True, exist_ok=True)
                self._writer = pq.ParquetWriter(self._tmp, QUARANTINE_SCHEMA, **_PARQUET_OPTIONS)
            self._writer.write_table(table)
        self.rows += n
        for reason in rows.reason:
            self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._tmp.unlink(missing_ok=True)
        self.rows = 0
        self.by_reason = {}

    def commit(self) -> None:
        """Put the quarantine file in place (or remove a stale one when nothing was rejected)."""
        with _writing(self.path):
            if self._writer is None:
                self.path.unlink(missing_ok=True)
                return
            self._writer.close()
            self._writer = None
            _fsync(self._tmp)
            os.replace(self._tmp, self.path)


def keep_rejected_file(quarantine: Path, source: Path, source_hash: str) -> None:
    """Copy a rejected file whole to ``quarantine/files/<hash>``."""
    target = quarantine / "files" / source_hash
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


# --------------------------------------------------------------------------------------------
# manifest, projects, archive


def manifest_path(lake: Path, source_hash: str) -> Path:
    return lake / "_manifest" / f"{source_hash}.json"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_manifest(lake: Path, record: dict[str, Any]) -> None:
    """Write ``_manifest/<source_hash>.json`` atomically; its presence means "landed"."""
    encoded = {k: _iso(v) if isinstance(v, datetime) else v for k, v in record.items()}
    write_bytes_atomic(
        manifest_path(lake, record["source_hash"]),
        orjson.dumps(encoded, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS),
    )


def write_projects(paths: WarehousePaths, projects: ProjectsConfig) -> Path:
    """``lake/projects/projects.parquet`` from projects.yml."""
    table = pa.Table.from_pylist(
        [{"project_id": p.id, "project_name": p.name, "timezone": p.timezone} for p in projects.projects],
        schema=PROJECTS_SCHEMA,
    )
    path = paths.lake / "projects" / "projects.parquet"
    write_table_atomic(path, table)
    return path


_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._@+=-]")


def safe_relative(name: str) -> PurePosixPath:
    """A relative path made only of safe components: no ``..``, no absolute root, no separators
    or control characters inside a component (``\\`` counts as a separator)."""
    parts: list[str] = []
    for part in re.split(r"[/\\]+", name):
        if part in ("", "."):
            continue
        cleaned = _UNSAFE_CHARS.sub("_", part)
        if set(cleaned) <= {"."}:
            cleaned = cleaned.replace(".", "_")
        parts.append(cleaned[:200])
    return PurePosixPath(*parts) if parts else PurePosixPath("unnamed")


def inside(root: Path, relative: PurePosixPath) -> Path:
    """``root / relative``, refusing anything that resolves outside ``root``."""
    resolved_root = root.resolve()
    target = (resolved_root / relative).resolve()
    if not target.is_relative_to(resolved_root) or target == resolved_root:
        raise ValueError(f"{relative} escapes {root}")
    return target


def archive_file(
    archive: Path, source: Path, source_name: str, source_hash: str, sidecar: Path | None
) -> Path:
    """Move an inbox file (and its sidecar) to ``archive/<safe relative path>``.  An archived
    file of the same name is never overwritten: the newcomer gets ``.<hash12>`` appended."""
    relative = safe_relative(source_name)
    target = inside(archive, relative)
    if target.exists() or (sidecar is not None and target.with_name(target.name + ".meta.json").exists()):
        target = target.with_name(f"{target.name}.{source_hash[:12]}")
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        if sidecar is not None and sidecar.exists():
            shutil.move(sidecar, target.with_name(target.name + ".meta.json"))
    return target


def manifest_exists(lake: Path, source_hash: str) -> bool:
    return manifest_path(lake, source_hash).exists()


def now_utc() -> datetime:
    return datetime.now(UTC)
