"""Writing the lake: staged event partitions, quarantine, manifest, projects, archive.

Crash safety (see ``docs/contracts.md``): a file's events are written to
``lake/_staging/<hash>/`` first, its quarantine to a temp name; then :meth:`FileStage.commit_now`
moves each staged file into ``lake/events/project_id=…/event_date=…/<hash>.parquet``
(fsync + ``os.replace``); then the manifest is written atomically; then the staging folder is
removed and the inbox file archived.  :func:`recover_staging` (run at the start of every
landing) removes the moved files of a landing whose staging folder is still there but whose
manifest is not, so a crash at any point leaves either the whole file landed or none of it.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gw.config import ProjectsConfig, WarehousePaths
from loaders import jsonio
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
#: Event files: dictionary-encode and keep min/max statistics only for the columns where they pay
#: (low cardinality, or filtered on); long JSON texts would spend most of the write time on a
#: dictionary that overflows and on statistics nobody prunes by.
_EVENT_PARQUET_OPTIONS: dict[str, Any] = {
    **_PARQUET_OPTIONS,
    "use_dictionary": ["event", "received_at", "source_hash", "source_name", "loaded_at", "group_type"],
    "write_statistics": [
        "event_uuid",
        "event",
        "distinct_id",
        "timestamp",
        "sent_at",
        "received_at",
        "group_type",
        "group_key",
        "source_hash",
        "source_name",
        "source_row",
        "loaded_at",
    ],
}


class LakeWriteError(RuntimeError):
    """The warehouse home cannot be written (permissions, disk full...). Names the path."""

    def __init__(self, path: Path, exc: BaseException | str) -> None:
        super().__init__(path, str(exc))  # plain args, so the error pickles across processes
        self.path = path
        self.reason = str(exc)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


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


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and rename it; with
    ``durable`` the temp file is fsynced first (else the caller syncs the file system)."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return cast(Callable[[int], int], syncfs)


_SYNCFS = _load_syncfs()


def sync_filesystem(folder: Path) -> None:
    """Make everything written so far on ``folder``'s file system durable: one ``syncfs(2)``
    (Linux) instead of an fsync per file, else ``sync(2)``."""
    with _writing(folder):
        if _SYNCFS is not None:
            fd = os.open(folder, os.O_RDONLY)
            try:
                if _SYNCFS(fd) == 0:
                    return
            finally:
                os.close(fd)
        if hasattr(os, "sync"):
            os.sync()


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


def epoch_to_timestamps(seconds: list[float] | list[float | None] | pa.Array) -> pa.Array:
    """Float epoch seconds → ``timestamp[us]`` (naive UTC), rounded to the microsecond (half
    to even).  Both landing paths (:mod:`loaders.normalize` and :mod:`loaders.bulk`) go through
    here, so the same double gives the same timestamp."""
    doubles = seconds if isinstance(seconds, pa.Array) else pa.array(seconds, type=pa.float64())
    micros = pc.round(pc.multiply(doubles, 1e6))
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


def split_partitions(
    table: pa.Table, project_ids: list[int] | pa.Array
) -> list[tuple[tuple[int, date], pa.Table]]:
    """``table`` cut into ``((project_id, event_date), rows)`` pieces, keys ascending, rows in
    their original order within a piece."""
    dates = pc.cast(table.column("timestamp"), pa.date32())
    days = pc.cast(
        pa.chunked_array([chunk.view(pa.int32()) for chunk in dates.chunks], pa.int32()), pa.int64()
    )
    ids = project_ids if isinstance(project_ids, pa.Array) else pa.array(project_ids, type=pa.int64())
    keys = pc.add(pc.shift_left(ids, 32), pc.add(days, _DAY_BIAS))
    unique = pc.unique(keys)

    def decode(key: int) -> tuple[int, date]:
        return key >> 32, _EPOCH_DATE + timedelta(days=(key & 0xFFFFFFFF) - _DAY_BIAS)

    if len(unique) == 1:
        return [(decode(unique[0].as_py()), table)]
    if len(unique) <= 8:  # a few partitions: one filter each is cheaper than sorting every row
        return [(decode(key), table.filter(pc.equal(keys, key))) for key in sorted(unique.to_pylist())]
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


class LakeIO:
    """One background thread that runs all lake I/O of a landing, in submission order.

    The main thread decodes and normalises (Python, holds the GIL); this thread encodes Parquet,
    fsyncs, renames, writes manifests and archives (pyarrow and the OS release the GIL), so the
    two overlap.  Because there is a single thread, every file's steps run in the order they
    were submitted — writes, then move into the lake, then manifest, then archive — which is
    what the crash-safety argument needs.  After a task fails, later tasks are skipped and the
    first error is raised in the main thread at the next :meth:`submit` or :meth:`wait`.
    """

    def __init__(self, root: Path, max_pending: int = 8, *, threaded: bool = True) -> None:
        self.root = root
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-lake-io") if threaded else None
        )
        self._pending: deque[Future[Any]] = deque()
        self._max_pending = max_pending
        self._failed = False
        self._made: set[Path] = set()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if self._failed:
            return None
        try:
            return fn(*args)
        except LakeWriteError:
            self._failed = True
            raise
        except Exception as exc:
            # anything else failing here is still the lake's side: never blame an input file
            self._failed = True
            raise LakeWriteError(self.root, exc) from exc
        except BaseException:
            self._failed = True
            raise

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``fn(*args)``; raises the error of an earlier task, waits when too many are
        queued (each may hold an Arrow table)."""
        if self._executor is None:  # inline: run now (in a worker process)
            done: Future[Any] = Future()
            done.set_result(self._run(fn, args))
            return done
        while self._pending and (self._pending[0].done() or len(self._pending) >= self._max_pending):
            self._pending.popleft().result()
        future = self._executor.submit(self._run, fn, args)
        self._pending.append(future)
        return future

    def wait(self) -> None:
        """Wait for everything queued; raises the first error."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Stop: finish the running task, drop the queued ones."""
        self._failed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def makedirs(self, folder: Path) -> None:
        """``mkdir -p``, remembered for the rest of the landing (called on the I/O thread)."""
        if folder not in self._made:
            with _writing(folder):
                folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)


@dataclass
class FileStage:
    """Staged event partitions of one source file, in ``lake/_staging/<hash>/``.

    Methods ending in ``_now`` run on the :class:`LakeIO` thread; the others queue work there.
    """

    io: LakeIO
    lake: Path
    source_hash: str
    source_name: str
    received_at: datetime
    loaded_at: datetime
    events: int = 0
    _writers: dict[tuple[int, date], pq.ParquetWriter] = field(default_factory=dict)
    _staged_keys: set[tuple[int, date]] = field(default_factory=set)
    _aborted: bool = False
    adopted: bool = False
    """Staged by another process: do not reset the staging folder."""

    @property
    def folder(self) -> Path:
        return self.lake / "_staging" / self.source_hash

    def __post_init__(self) -> None:
        if not self.adopted:
            self.io.submit(self._prepare_now)

    @property
    def staged_keys(self) -> list[tuple[int, date]]:
        """Partitions with a closed staged file."""
        return sorted(self._staged_keys)

    def _prepare_now(self) -> None:
        with _writing(self.folder):
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)

    def _staged(self, key: tuple[int, date]) -> Path:
        return self.folder / f"{key[0]}_{key[1].isoformat()}.parquet"

    def write(self, rows: EventRows) -> None:
        """Append ``rows`` to the staged partition files (the Arrow table is built here, the
        Parquet is written on the I/O thread)."""
        if not len(rows):
            return
        table = rows_to_table(
            rows,
            source_hash=self.source_hash,
            source_name=self.source_name,
            received_at=self.received_at,
            loaded_at=self.loaded_at,
        )
        self.io.submit(self._append_now, table, rows.project_id)
        self.events += len(rows)

    def write_table(self, table: pa.Table, project_ids: pa.Array) -> None:
        """Append a table already in :data:`EVENT_SCHEMA` (built by :mod:`loaders.bulk`), with
        the project id of every row."""
        if not table.num_rows:
            return
        self.io.submit(self._append_now, table, project_ids)
        self.events += table.num_rows

    def _append_now(self, table: pa.Table, project_ids: list[int] | pa.Array) -> None:
        if self._aborted:
            return
        for key, piece in split_partitions(table, project_ids):
            path = self._staged(key)
            with _writing(path):
                writer = self._writers.get(key)
                if writer is None:
                    writer = pq.ParquetWriter(path, EVENT_SCHEMA, **_EVENT_PARQUET_OPTIONS)
                    self._writers[key] = writer
                writer.write_table(piece, row_group_size=1024 * 1024)

    def _close_now(self) -> None:
        writers, self._writers = self._writers, {}
        self._staged_keys.update(writers)
        for writer in writers.values():
            writer.close()

    def abort(self) -> None:
        """Drop everything staged for this file."""
        self._aborted = True
        self.io.submit(self._abort_now)

    def _abort_now(self) -> None:
        try:
            self._close_now()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def close_now(self) -> None:
        """Finish the staged Parquet files (footers written)."""
        with _writing(self.folder):
            self._close_now()

    def move_now(self) -> list[str]:
        """Move the staged partition files (closed, and made durable by the caller) into
        ``lake/events``; returns their paths relative to ``lake/``, sorted.  Until the manifest
        is written the staging folder stays, which tells :func:`recover_staging` to remove these
        files after a crash."""
        keys = sorted(self._staged_keys)
        targets = [partition_path(pid, day, self.source_hash) for pid, day in keys]
        for key, target in zip(keys, targets, strict=True):
            destination = self.lake / target
            with _writing(destination):
                self.io.makedirs(destination.parent)
                os.replace(self._staged(key), destination)
        return [str(t) for t in targets]


def finish_staging(lake: Path, source_hash: str) -> None:
    """Remove a file's staging folder once its manifest is written."""
    shutil.rmtree(lake / "_staging" / source_hash, ignore_errors=True)


def recover_staging(lake: Path) -> list[str]:
    """Undo landings interrupted before their manifest; remove leftover staging folders.

    A staging folder whose hash has no manifest means the process stopped between staging and
    the manifest: any ``events/*/*/<hash>.parquet`` already moved into the lake is removed, so
    the file lands again from scratch.  Returns the hashes whose partial output was removed.
    """
    staging = lake / "_staging"
    undone: list[str] = []
    if not staging.is_dir():
        return undone
    for folder in sorted(staging.iterdir()):
        with _writing(folder):
            if not folder.is_dir():
                folder.unlink(missing_ok=True)
                continue
            source_hash = folder.name
            if not manifest_path(lake, source_hash).exists():
                moved = list((lake / "events").glob(f"project_id=*/event_date=*/{source_hash}.parquet"))
                for path in moved:
                    path.unlink(missing_ok=True)
                if moved:
                    undone.append(source_hash)
            shutil.rmtree(folder)
    return undone


# --------------------------------------------------------------------------------------------
# quarantine


@dataclass
class QuarantineWriter:
    """Quarantined rows of one file, written to a temp Parquet file on the I/O thread and put
    in place by :meth:`commit_now`."""

    io: LakeIO
    quarantine: Path
    source_hash: str
    source_name: str
    quarantined_at: datetime
    rows: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    _writer: pq.ParquetWriter | None = None
    _closed: bool = False

    @property
    def closed(self) -> bool:
        """Whether a finished temp file waits to be moved into place."""
        return self._closed

    @classmethod
    def adopt(
        cls,
        io: LakeIO,
        quarantine: Path,
        source_hash: str,
        source_name: str,
        quarantined_at: datetime,
        closed: bool,
    ) -> QuarantineWriter:
        """The writer of a file quarantined by a worker process (its temp file, if ``closed``,
        is finished and waits to be moved into place)."""
        writer = cls(io, quarantine, source_hash, source_name, quarantined_at)
        writer._closed = closed
        return writer

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
        self.io.submit(self._write_now, table)
        self.rows += n
        for reason in rows.reason:
            self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def _write_now(self, table: pa.Table) -> None:
        with _writing(self._tmp):
            if self._writer is None:
                self.io.makedirs(self._tmp.parent)
                self._writer = pq.ParquetWriter(self._tmp, QUARANTINE_SCHEMA, **_PARQUET_OPTIONS)
            self._writer.write_table(table)

    def discard(self) -> None:
        """Forget the rows written so far."""
        self.rows = 0
        self.by_reason = {}
        self.io.submit(self._discard_now)

    def _discard_now(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._closed = False
        self._tmp.unlink(missing_ok=True)

    def close_now(self) -> None:
        """Finish the temp Parquet file (made durable by the caller)."""
        if self._writer is not None:
            with _writing(self._tmp):
                self._writer.close()
            self._writer = None
            self._closed = True

    def move_now(self) -> None:
        """Put the quarantine file in place, or remove a stale one when nothing was rejected."""
        with _writing(self.path):
            if self._closed:
                os.replace(self._tmp, self.path)
            else:
                self.path.unlink(missing_ok=True)

    def commit_now(self) -> None:
        """Close, sync and move in one step (for a lone quarantine write)."""
        self.close_now()
        if self._closed:
            _fsync(self._tmp)
        self.move_now()


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


def write_manifest(lake: Path, record: dict[str, Any], *, durable: bool = True) -> None:
    """Write ``_manifest/<source_hash>.json`` atomically; its presence means "landed"."""
    encoded = {k: _iso(v) if isinstance(v, datetime) else v for k, v in record.items()}
    write_bytes_atomic(
        manifest_path(lake, record["source_hash"]),
        jsonio.dumps_pretty(encoded),
        durable=durable,
    )


def write_projects(paths: WarehousePaths, projects: ProjectsConfig) -> Path:
    """``lake/projects/projects.parquet`` from projects.yml."""
    table = pa.Table.from_arrays(
        [
            pa.array([p.id for p in projects.projects], type=pa.int64()),
            pa.array([p.name for p in projects.projects], type=pa.string()),
            pa.array([p.timezone for p in projects.projects], type=pa.string()),
        ],
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
