"""Land the inbox into the lake, exactly once per distinct file content.

``land_inbox`` is the one entry point: the Airflow landing task and ``gw land`` both call it.

For every file under the inbox (sorted by relative path; ``*.meta.json`` sidecars travel with
their body; hidden and temp files are skipped):

1. hash its bytes (sha256); a manifest ``lake/_manifest/<hash>.json`` means the content is
   already landed — the file is archived and nothing else happens;
2. decode it by content (:mod:`loaders.decode`) and normalise every event
   (:mod:`loaders.normalize`), quarantining bad events while their neighbours land; the
   Parquet is staged in ``lake/_staging/<hash>/``;
3. commit it: staged Parquet and quarantine durable and moved into place, then the manifest,
   then the inbox file archived (:mod:`loaders.lake` explains the crash safety).  Files are
   committed in groups (one file-system sync per step for up to 64 files) on a background I/O
   thread, in landing order.

Step 2 runs in this process, or for big inboxes in worker processes (``GW_LAND_WORKERS``, see
:func:`worker_count`); the lake is the same either way.  Bad input never raises; a broken
warehouse (an unwritable lake) raises :class:`loaders.lake.LakeWriteError` naming the path.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gw.config import ProjectsConfig, WarehousePaths
from loaders import bulk
from loaders.decode import CHUNK_ITEMS, FileRejected, Segment, body_context, decode_file
from loaders.lake import (
    FileStage,
    LakeIO,
    LakeWriteError,
    QuarantineWriter,
    archive_file,
    finish_staging,
    keep_rejected_file,
    manifest_exists,
    recover_staging,
    sync_filesystem,
    write_manifest,
    write_projects,
)
from loaders.normalize import RAW_LIMIT, EventRows, ProjectResolver, QuarantineRows, normalise_segment
from loaders.reasons import Reason
from loaders.sidecar import SIDECAR_SUFFIX, Sidecar, read_sidecar, sidecar_path

log = logging.getLogger(__name__)

_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", ".lock", "~")
_HASH_CHUNK = 1024 * 1024
#: Quarantined rows buffered before they are flushed to the file's quarantine Parquet.
_QUARANTINE_FLUSH = 10_000
#: Below this many inbox bytes, worker processes cost more to start than they save.
_PARALLEL_MIN_BYTES = 32 * 1024 * 1024
#: Files (or events) committed together: one file-system sync per step for the group.
_GROUP_FILES = 64
_GROUP_EVENTS = 500_000


@dataclass
class LandingReport:
    """What one call of :func:`land_inbox` did."""

    files_seen: int = 0
    files_landed: int = 0
    files_already_landed: int = 0
    files_quarantined: int = 0
    events_landed: int = 0
    events_quarantined: dict[str, int] = field(default_factory=dict)
    """Reason code → count; event-level rows and whole files (one per file) together."""
    files: list[dict[str, Any]] = field(default_factory=list)
    """One small record per file: name, hash, outcome, counts (for task logs and ``gw``)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        quarantined = sum(self.events_quarantined.values())
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.events_quarantined.items()))
        return (
            f"{self.files_seen} files seen: {self.files_landed} landed, "
            f"{self.files_already_landed} already landed, {self.files_quarantined} quarantined; "
            f"{self.events_landed} events landed, {quarantined} quarantined"
            + (f" ({reasons})" if reasons else "")
        )

    def _count(self, reason: str, n: int = 1) -> None:
        self.events_quarantined[reason] = self.events_quarantined.get(reason, 0) + n


# --------------------------------------------------------------------------------------------
# discovery


def _skipped_name(name: str) -> bool:
    return name.startswith((".", "~")) or name.endswith(_TEMP_SUFFIXES)


def discover(inbox: Path) -> list[tuple[str, Path]]:
    """Body files under ``inbox`` as ``(relative posix path, path)``, sorted by relative path.

    Sidecars, hidden and temp files (and anything under a hidden folder) are skipped; symbolic
    links are not followed, so nothing outside the inbox is read.
    """
    found: list[tuple[str, Path]] = []
    if not inbox.is_dir():
        return found
    for folder, dirnames, filenames in os.walk(inbox, followlinks=False):
        dirnames[:] = [d for d in dirnames if not _skipped_name(d)]
        for name in filenames:
            if _skipped_name(name) or name.endswith(SIDECAR_SUFFIX):
                continue
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(inbox).as_posix(), path))
    found.sort(key=lambda item: item[0])
    return found


def file_hash(path: Path) -> tuple[str, int]:
    """sha256 hex of the file's bytes, and its size."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --------------------------------------------------------------------------------------------
# one file


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of short-lived dicts are made: it
    finds no cycles in decoded JSON and otherwise costs about half of the parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _FileOutcome:
    events_landed: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    file_reason: str | None = None


@dataclass(frozen=True)
class _Source:
    """One inbox file being landed."""

    path: Path
    name: str
    hash: str
    size: int
    sidecar_path: Path | None
    received_at: datetime


def _received_at(path: Path, sidecar: Sidecar | None) -> datetime:
    if sidecar is not None and sidecar.received_at is not None:
        return sidecar.received_at
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _chunks(segment: Segment) -> list[Segment]:
    items = segment.items
    if len(items) <= CHUNK_ITEMS:
        return [segment]
    return [Segment(segment.context, items[i : i + CHUNK_ITEMS]) for i in range(0, len(items), CHUNK_ITEMS)]


def _head_text(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(RAW_LIMIT).decode("utf-8", "replace")


def _land_one(
    io: LakeIO,
    paths: WarehousePaths,
    resolver: ProjectResolver,
    source: _Source,
    sidecar: Sidecar | None,
    loaded_at: datetime,
    *,
    bulk_threads: int = 1,
) -> _Ready:
    """Decode and normalise one file on this thread, queueing its Parquet writes on the I/O
    thread; the caller commits it (with others) through :func:`_commit_group`.

    NDJSON exports go through :mod:`loaders.bulk` (DuckDB) when it can take them, with the
    same result; anything it cannot take lands through the per-event path below."""
    stage = FileStage(io, paths.lake, source.hash, source.name, source.received_at, loaded_at)
    quarantine = QuarantineWriter(io, paths.quarantine, source.hash, source.name, loaded_at)
    if bulk.candidate(source.path, source.size, body_context(sidecar)):
        try:
            bulk.land_file(
                source.path,
                stage=stage,
                quarantine=quarantine,
                resolver=resolver,
                received_at=source.received_at,
                loaded_at=loaded_at,
                threads=bulk_threads,
            )
            return _Ready(source, stage, quarantine, _FileOutcome(stage.events, dict(quarantine.by_reason)))
        except bulk.BulkFallback as exc:
            log.info("%s: landing event by event (%s)", source.name, exc)
            stage.abort()
            quarantine.discard()
            stage = FileStage(io, paths.lake, source.hash, source.name, source.received_at, loaded_at)
        except BaseException:
            stage.abort()
            quarantine.discard()
            raise
    rows = EventRows()
    rejected = QuarantineRows()
    next_row = 0
    file_reason: Reason | None = None
    try:
        with _gc_paused():
            for segment in decode_file(source.path, sidecar):
                for chunk in _chunks(segment):
                    next_row = normalise_segment(
                        chunk,
                        first_row=next_row,
                        received_at=source.received_at,
                        resolver=resolver,
                        rows=rows,
                        quarantine=rejected,
                    )
                    if len(rows) >= CHUNK_ITEMS:
                        stage.write(rows)
                        rows = EventRows()
                    if len(rejected) >= _QUARANTINE_FLUSH:
                        quarantine.write(rejected)
                        rejected = QuarantineRows()
            stage.write(rows)
            quarantine.write(rejected)
    except FileRejected as exc:
        stage.abort()
        quarantine.discard()
        whole = QuarantineRows()
        whole.add(None, exc.reason, exc.detail, _head_text(source.path))
        quarantine.write(whole)
        file_reason = exc.reason
    except BaseException:
        stage.abort()
        quarantine.discard()
        raise
    outcome = _FileOutcome(
        events_landed=0 if file_reason else stage.events,
        by_reason=dict(quarantine.by_reason),
        file_reason=file_reason.value if file_reason else None,
    )
    return _Ready(source, stage, quarantine, outcome)


@dataclass(frozen=True)
class _Ready:
    """A decoded file whose output is staged, waiting for its group commit."""

    source: _Source
    stage: FileStage
    quarantine: QuarantineWriter
    outcome: _FileOutcome


def _commit_group(paths: WarehousePaths, group: list[_Ready], loaded_at: datetime) -> None:
    """Commit staged files on the I/O thread.  For every file the order is: its Parquet and
    quarantine durable, moved into place, then its manifest, then (after the manifests are
    durable) its staging folder removed and the inbox file archived.  Durability is one
    ``syncfs`` per step for the whole group instead of an fsync per file."""
    for ready in group:
        if ready.outcome.file_reason is None:
            ready.stage.close_now()
        else:
            keep_rejected_file(paths.quarantine, ready.source.path, ready.source.hash)
        ready.quarantine.close_now()
    sync_filesystem(paths.home)
    for ready in group:
        source, outcome = ready.source, ready.outcome
        partitions = [] if outcome.file_reason else ready.stage.move_now()
        ready.quarantine.move_now()
        write_manifest(
            paths.lake,
            {
                "source_hash": source.hash,
                "source_name": source.name,
                "size_bytes": source.size,
                "received_at": source.received_at,
                "loaded_at": loaded_at,
                "events_landed": outcome.events_landed,
                "events_quarantined": 0 if outcome.file_reason else sum(outcome.by_reason.values()),
                "quarantine_reasons": outcome.by_reason,
                "file_reason": outcome.file_reason,
                "partitions": partitions,
                "has_sidecar": source.sidecar_path is not None,
            },
            durable=False,
        )
    sync_filesystem(paths.home)
    for ready in group:
        finish_staging(paths.lake, ready.source.hash)
        archive_file(
            paths.archive, ready.source.path, ready.source.name, ready.source.hash, ready.source.sidecar_path
        )


def _record_failure(
    io: LakeIO, paths: WarehousePaths, source: _Source, loaded_at: datetime, exc: Exception
) -> None:
    """A loader bug on this input: quarantine a row with the traceback, write no manifest and
    leave the file in the inbox, so it is retried after a fix."""
    detail = "".join(traceback.format_exception(exc))[-4000:]
    log.error("%s: landing failed, the file stays in the inbox:\n%s", source.name, detail)
    failed = QuarantineWriter(io, paths.quarantine, source.hash, source.name, loaded_at)
    row = QuarantineRows()
    row.add(None, Reason.INTERNAL_ERROR, detail, _head_text(source.path))
    failed.write(row)
    io.submit(failed.commit_now)


# --------------------------------------------------------------------------------------------
# the entry point


def _stage_in_worker(
    paths: WarehousePaths,
    resolver: ProjectResolver,
    source: _Source,
    sidecar: Sidecar | None,
    loaded_at: datetime,
) -> _Staged:
    """Decode, normalise and stage one file in a worker process (all I/O inline)."""
    io = LakeIO(paths.home, threaded=False)
    ready = _land_one(io, paths, resolver, source, sidecar, loaded_at)
    if ready.outcome.file_reason is None:
        ready.stage.close_now()
    ready.quarantine.close_now()
    return _Staged(ready.outcome, ready.stage.staged_keys, ready.quarantine.closed)


@dataclass(frozen=True)
class _Staged:
    """What a worker process hands back for one file."""

    outcome: _FileOutcome
    staged_keys: list[tuple[int, date]]
    quarantine_closed: bool


def worker_count(total_bytes: int) -> int:
    """Processes to decode with: ``$GW_LAND_WORKERS`` if set, else one per CPU (at most 4)
    when there is enough to land to repay starting them (32 MiB) and this process has no
    other threads (so forking is safe), else 1."""
    configured = os.environ.get("GW_LAND_WORKERS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            log.warning("GW_LAND_WORKERS=%r is not a number; using 1", configured)
            return 1
    if total_bytes < _PARALLEL_MIN_BYTES or threading.active_count() > 1:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Worker processes, started now (before this landing starts any thread).

    ``fork`` is used when this process has a single thread: children neither re-run the
    caller's ``__main__`` nor inherit a lock held by another thread.  With other threads alive
    (only when ``GW_LAND_WORKERS`` asks for workers) ``forkserver`` is used, which re-imports an
    unguarded ``__main__`` script in the children: such scripts need ``if __name__ ==
    "__main__":``.  Any failure to start means landing in this process.
    """
    if workers <= 1:
        return None
    context: multiprocessing.context.BaseContext
    try:
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["loaders.land"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        pool.submit(os.getpid).result()  # start the workers now
        return pool
    except (OSError, ValueError, AssertionError, BrokenProcessPool) as exc:
        log.warning("cannot start %d landing workers (%s); landing in this process", workers, exc)
        return None


class _Landing:
    """The state of one :func:`land_inbox` call."""

    def __init__(self, paths: WarehousePaths, resolver: ProjectResolver, loaded_at: datetime) -> None:
        self.paths = paths
        self.resolver = resolver
        self.loaded_at = loaded_at
        self.report = LandingReport()
        self.io = LakeIO(paths.home)
        self.group: list[_Ready] = []
        self.group_events = 0
        self.in_flight: deque[tuple[_Source, Sidecar | None, Future[_Staged]]] = deque()
        self.pool_broken = False
        self.max_in_flight = 2
        self.bulk_threads = 1
        """DuckDB threads of the bulk path when files are landed in this process."""

    # -- per file -------------------------------------------------------------------------

    def land_here(self, source: _Source, sidecar: Sidecar | None) -> None:
        try:
            ready = _land_one(
                self.io,
                self.paths,
                self.resolver,
                source,
                sidecar,
                self.loaded_at,
                bulk_threads=self.bulk_threads,
            )
        except LakeWriteError:
            raise
        except Exception as exc:
            self.failed(source, exc)
            return
        self.accept(ready)

    def land_in(self, pool: ProcessPoolExecutor, source: _Source, sidecar: Sidecar | None) -> None:
        if self.pool_broken:
            self.land_here(source, sidecar)
            return
        try:
            future = pool.submit(_stage_in_worker, self.paths, self.resolver, source, sidecar, self.loaded_at)
        except BrokenProcessPool:
            self._pool_broke()
            self.land_here(source, sidecar)
            return
        self.in_flight.append((source, sidecar, future))
        while len(self.in_flight) > self.max_in_flight:
            self.collect()

    def collect(self) -> None:
        """Take the oldest worker result (results are taken in file order)."""
        source, sidecar, future = self.in_flight.popleft()
        try:
            staged = future.result()
        except LakeWriteError:
            raise
        except BrokenProcessPool:
            self._pool_broke()
            self.land_here(source, sidecar)
            return
        except Exception as exc:
            self.failed(source, exc)
            return
        stage = FileStage(
            self.io,
            self.paths.lake,
            source.hash,
            source.name,
            source.received_at,
            self.loaded_at,
            events=staged.outcome.events_landed,
            _staged_keys=set(staged.staged_keys),
            adopted=True,
        )
        quarantine = QuarantineWriter.adopt(
            self.io, self.paths.quarantine, source.hash, source.name, self.loaded_at, staged.quarantine_closed
        )
        self.accept(_Ready(source, stage, quarantine, staged.outcome))

    def _pool_broke(self) -> None:
        if not self.pool_broken:
            log.warning("a landing worker process died; landing the remaining files in this process")
        self.pool_broken = True

    def accept(self, ready: _Ready) -> None:
        self.group.append(ready)
        self.group_events += ready.outcome.events_landed
        if len(self.group) >= _GROUP_FILES or self.group_events >= _GROUP_EVENTS:
            self.commit_group()
        outcome, report = ready.outcome, self.report
        for reason, count in outcome.by_reason.items():
            report._count(reason, count)
        report.events_landed += outcome.events_landed
        if outcome.file_reason is None:
            report.files_landed += 1
        else:
            report.files_quarantined += 1
        report.files.append(
            {
                "source_name": ready.source.name,
                "source_hash": ready.source.hash,
                "outcome": "quarantined" if outcome.file_reason else "landed",
                "events_landed": outcome.events_landed,
                "quarantined": outcome.by_reason,
            }
        )

    def failed(self, source: _Source, exc: Exception) -> None:
        _record_failure(self.io, self.paths, source, self.loaded_at, exc)
        self.report.files_quarantined += 1
        self.report._count(Reason.INTERNAL_ERROR.value)
        self.report.files.append(
            {"source_name": source.name, "source_hash": source.hash, "outcome": "failed"}
        )

    def commit_group(self) -> None:
        if self.group:
            self.io.submit(_commit_group, self.paths, self.group, self.loaded_at)
        self.group, self.group_events = [], 0


def land_inbox(
    paths: WarehousePaths,
    projects: ProjectsConfig,
    *,
    inbox: Path | None = None,
    now: datetime | None = None,
) -> LandingReport:
    """Land every file of the inbox (default ``paths.inbox``) exactly once.

    ``now`` is the ``loaded_at`` / ``quarantined_at`` stamp (default: the current time, UTC).
    Big inboxes are decoded by several worker processes (see :func:`worker_count`); the
    result is the same whichever way they are landed.
    """
    if now is None:
        loaded_at = datetime.now(UTC)
    else:
        loaded_at = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    source_root = (inbox or paths.inbox).expanduser()
    for folder in (paths.lake, paths.quarantine, paths.archive):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeWriteError(folder, exc) from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LakeWriteError(folder, PermissionError("not writable"))
    write_projects(paths, projects)
    undone = recover_staging(paths.lake)
    if undone:
        log.warning("removed the partial output of %d interrupted landing(s): %s", len(undone), undone)

    files = discover(source_root)
    workers = worker_count(sum(_size(path) for _, path in files))
    pool = _start_pool(workers)  # before any thread of ours starts
    landing = _Landing(paths, ProjectResolver(projects), loaded_at)
    landing.max_in_flight = 2 * workers
    landing.bulk_threads = 1
    report = landing.report
    landed_this_run: set[str] = set()
    try:
        for source_name, path in files:
            report.files_seen += 1
            side_path = sidecar_path(path)
            has_sidecar = side_path.exists()
            try:
                source_hash, size = file_hash(path)
            except OSError as exc:
                log.error("%s: cannot read (%s); left in the inbox", source_name, exc)
                report.files_quarantined += 1
                report._count(Reason.INTERNAL_ERROR.value)
                report.files.append({"source_name": source_name, "outcome": "unreadable", "detail": str(exc)})
                continue

            if source_hash in landed_this_run or manifest_exists(paths.lake, source_hash):
                landing.io.submit(
                    archive_file,
                    paths.archive,
                    path,
                    source_name,
                    source_hash,
                    side_path if has_sidecar else None,
                )
                report.files_already_landed += 1
                report.files.append(
                    {"source_name": source_name, "source_hash": source_hash, "outcome": "already_landed"}
                )
                continue
            landed_this_run.add(source_hash)

            sidecar = read_sidecar(path) if has_sidecar else None
            if sidecar is not None and sidecar.problems:
                log.warning("%s: sidecar problems: %s", source_name, "; ".join(sidecar.problems))
            source = _Source(
                path=path,
                name=source_name,
                hash=source_hash,
                size=size,
                sidecar_path=side_path if has_sidecar else None,
                received_at=_received_at(path, sidecar),
            )
            if pool is None:
                landing.land_here(source, sidecar)
            else:
                landing.land_in(pool, source, sidecar)
        while landing.in_flight:
            landing.collect()
        landing.commit_group()
        landing.io.wait()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        landing.io.close()
    log.info("%s", report.summary())
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
