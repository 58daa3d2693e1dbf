"""Land the inbox into the lake, exactly once per distinct file content.

``land_inbox`` is the one entry point: the Airflow landing task and ``gw land`` both call it.

For every file under the inbox (sorted by relative path; ``*.meta.json`` sidecars travel with
their body; hidden and temp files are skipped):

1. hash its bytes (sha256); a manifest ``lake/_manifest/<hash>.json`` means the content is
   already landed — the file is archived and nothing else happens;
2. decode it by content (:mod:`loaders.decode`) and normalise every event
   (:mod:`loaders.normalize`), quarantining bad events while their neighbours land;
3. write its Parquet (staged, then moved into place) and its quarantine, then the manifest,
   then archive the inbox file (:mod:`loaders.lake` explains the crash safety).

Bad input never raises; a broken warehouse (an unwritable lake) raises
:class:`loaders.lake.LakeWriteError` naming the path.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gw.config import ProjectsConfig, WarehousePaths
from loaders.decode import CHUNK_ITEMS, FileRejected, Segment, decode_file
from loaders.lake import (
    FileStage,
    LakeWriteError,
    QuarantineWriter,
    archive_file,
    finish_staging,
    keep_rejected_file,
    manifest_exists,
    recover_staging,
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
    partitions: list[str] = field(default_factory=list)


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
    paths: WarehousePaths,
    resolver: ProjectResolver,
    *,
    path: Path,
    source_name: str,
    source_hash: str,
    sidecar: Sidecar | None,
    received_at: datetime,
    loaded_at: datetime,
) -> _FileOutcome:
    """Stage, normalise and commit one file's events and quarantine (no manifest yet)."""
    stage = FileStage(paths.lake, source_hash, source_name, received_at, loaded_at)
    quarantine = QuarantineWriter(paths.quarantine, source_hash, source_name, loaded_at)
    rows = EventRows()
    rejected = QuarantineRows()
    next_row = 0
    try:
        for segment in decode_file(path, sidecar):
            for chunk in _chunks(segment):
                next_row = normalise_segment(
                    chunk,
                    first_row=next_row,
                    received_at=received_at,
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
        whole.add(None, exc.reason, exc.detail, _head_text(path))
        quarantine.write(whole)
        quarantine.commit()
        keep_rejected_file(paths.quarantine, path, source_hash)
        return _FileOutcome(by_reason={exc.reason.value: 1}, file_reason=exc.reason.value)
    except BaseException:
        stage.abort()
        quarantine.discard()
        raise
    partitions = stage.commit()
    quarantine.commit()
    return _FileOutcome(
        events_landed=stage.events, by_reason=dict(quarantine.by_reason), partitions=partitions
    )


# --------------------------------------------------------------------------------------------
# the entry point


def land_inbox(
    paths: WarehousePaths,
    projects: ProjectsConfig,
    *,
    inbox: Path | None = None,
    now: datetime | None = None,
) -> LandingReport:
    """Land every file of the inbox (default ``paths.inbox``) exactly once.

    ``now`` is the ``loaded_at`` / ``quarantined_at`` stamp (default: the current time, UTC).
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

    resolver = ProjectResolver(projects)
    report = LandingReport()
    for source_name, path in discover(source_root):
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

        if manifest_exists(paths.lake, source_hash):
            archive_file(paths.archive, path, source_name, source_hash, side_path if has_sidecar else None)
            report.files_already_landed += 1
            report.files.append(
                {"source_name": source_name, "source_hash": source_hash, "outcome": "already_landed"}
            )
            continue

        sidecar = read_sidecar(path) if has_sidecar else None
        if sidecar is not None and sidecar.problems:
            log.warning("%s: sidecar problems: %s", source_name, "; ".join(sidecar.problems))
        received_at = _received_at(path, sidecar)
        try:
            with _gc_paused():
                outcome = _land_one(
                    paths,
                    resolver,
                    path=path,
                    source_name=source_name,
                    source_hash=source_hash,
                    sidecar=sidecar,
                    received_at=received_at,
                    loaded_at=loaded_at,
                )
        except LakeWriteError:
            raise
        except Exception as exc:  # a loader bug on this input: keep the file for a retry
            detail = "".join(traceback.format_exception(exc))[-4000:]
            log.error("%s: landing failed, the file stays in the inbox:\n%s", source_name, detail)
            failed = QuarantineWriter(paths.quarantine, source_hash, source_name, loaded_at)
            row = QuarantineRows()
            row.add(None, Reason.INTERNAL_ERROR, detail, _head_text(path))
            failed.write(row)
            failed.commit()
            report.files_quarantined += 1
            report._count(Reason.INTERNAL_ERROR.value)
            report.files.append({"source_name": source_name, "source_hash": source_hash, "outcome": "failed"})
            continue

        write_manifest(
            paths.lake,
            {
                "source_hash": source_hash,
                "source_name": source_name,
                "size_bytes": size,
                "received_at": received_at,
                "loaded_at": loaded_at,
                "events_landed": outcome.events_landed,
                "events_quarantined": sum(outcome.by_reason.values()) if outcome.file_reason is None else 0,
                "quarantine_reasons": outcome.by_reason,
                "file_reason": outcome.file_reason,
                "partitions": outcome.partitions,
                "has_sidecar": has_sidecar,
            },
        )
        finish_staging(paths.lake, source_hash)
        archive_file(paths.archive, path, source_name, source_hash, side_path if has_sidecar else None)

        for reason, count in outcome.by_reason.items():
            report._count(reason, count)
        report.events_landed += outcome.events_landed
        if outcome.file_reason is None:
            report.files_landed += 1
        else:
            report.files_quarantined += 1
        report.files.append(
            {
                "source_name": source_name,
                "source_hash": source_hash,
                "outcome": "quarantined" if outcome.file_reason else "landed",
                "events_landed": outcome.events_landed,
                "quarantined": outcome.by_reason,
            }
        )
    log.info("%s", report.summary())
    return report
