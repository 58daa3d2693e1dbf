"""Bulk landing of NDJSON exports: DuckDB parses, numpy/Arrow check, whole batches at a time.

The per-event path (:mod:`loaders.decode` then :mod:`loaders.normalize`) touches every event in
Python.  For NDJSON exports (``.jsonl`` / ``.ndjson``, plain or gzip — PostHog's batch-export
shape, or any file of one event object per line) this module does the same work in bulk and
lands **exactly the same rows**: same columns and values, same ``source_row``, same quarantine
rows (reason, detail, raw) and therefore the same manifest.  It does in bulk only what it can
show to be identical and hands everything else back to the per-event code:

1. A feeder thread decompresses the file (``zlib`` releases the GIL) and streams the text to
   DuckDB through a named pipe.  On the way it validates every line with the msgspec parser the
   per-event path uses, so a file holding anything that parser refuses — trailing commas,
   ``NaN``, nesting deeper than msgspec allows, a lone surrogate escape — or a ``batch`` key
   (one line would become several events) goes down the per-event path whole.  It also checks
   the start of the text the way :func:`loaders.decode.decode_file` decides that a file is
   NDJSON at all (a first line that is a JSON object, a second line), and notes lines over
   :data:`~loaders.decode.MAX_EVENT_BYTES`.
2. DuckDB ``read_json(format='newline_delimited')`` parses the text: it takes exactly one object
   per ``\n``-separated line, skips blank lines as the per-event path does, validates UTF-8 and
   refuses repeated keys among the columns it reads — any error fails the query and the file
   goes down the per-event path.  Row *i* of the result is the *i*-th non-blank line (the
   feeder's count of lines must equal DuckDB's count of rows).  The query (:data:`_SELECT`)
   only lifts: JSON texts of the fields, ``$groups`` / ``$set`` / ``$set_once`` /
   ``$group_*`` from ``properties``, the keys of every object written out.
3. :class:`_Checks` decides, per batch of rows and vectorised (numpy over the Arrow buffers,
   whole-batch scans first, per-row work only where a scan finds something), which rows the
   bulk columns reproduce exactly.  The others — a missing or non-canonical uuid, a distinct id
   that is not a plain string (numbers are re-done), a timestamp outside
   ``YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM]`` or its checked ranges, an api key / token /
   ``sent_at`` / top-level ``$groups`` or ``$set``, a team id that does not resolve, ``$groups``
   with non-string values, escapes, numbers whose text yyjson and msgspec write differently,
   nested objects other than flat ``$groups`` / ``$set`` / ``$set_once`` / ``$group_set``,
   repeated keys, lines over 1 MiB… — are re-done by :func:`loaders.normalize.normalise_segment`
   on their raw line (kept by the feeder), so their output, including every quarantine reason
   and detail, is the per-event path's by construction.

JSON text: DuckDB writes ``properties`` and the objects lifted from it with yyjson, the
per-event path with msgspec.  Both write compact JSON, keep key order, write non-ASCII as UTF-8
and integers exactly; they differ only in escapes (``\u001f`` vs ``\u001f``), repeated keys
(yyjson keeps both, msgspec the last), floats of magnitude ≥ 1e16 or below 1e-5 and numbers that
overflow a double (yyjson keeps their text) — the rows holding any of those are re-done
(``tests/unit/test_land_bulk.py`` lands the same inputs both ways and compares).  Timestamps are
computed as the per-event path computes them (float epoch seconds from whole microseconds,
fractions truncated, the 23 h clamp on the same doubles) and converted by the same
:func:`loaders.lake.epoch_to_timestamps`.

The bulk path is used for files of at least :data:`BULK_MIN_BYTES` whose sidecar, if any, gives
no key and no sent time, on systems with named pipes; ``GW_LAND_BULK=0`` turns it
off.  Rows re-done in Python are written with the bulk rows of their batch, in ``source_row``
order.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders import decode
from loaders.decode import MAX_EVENT_BYTES, BodyContext, Segment
from loaders.lake import (
    EVENT_SCHEMA,
    FileStage,
    QuarantineWriter,
    epoch_to_timestamps,
    naive_utc,
    rows_to_table,
)
from loaders.normalize import (
    FUTURE_LIMIT,
    MAX_DISTINCT_ID_CHARS,
    EventRows,
    ProjectResolver,
    QuarantineRows,
    normalise_segment,
)

log = logging.getLogger(__name__)

#: Files smaller than this (on disk) take the per-event path: starting DuckDB costs more.
BULK_MIN_BYTES = 256 * 1024
#: Rows per Arrow batch taken from DuckDB.
BATCH_ROWS = 50_000
#: Quarantined rows buffered before they are written (as in :mod:`loaders.land`).
_QUARANTINE_FLUSH = 10_000
#: Bytes looked at (decompressed) to tell an NDJSON export from a single JSON document.
_PEEK_BYTES = 64 * 1024
#: Decompressed bytes handed to the validator and the pipe at a time.
_CHUNK_BYTES = 4 * 1024 * 1024
#: Lines of at most this many bytes are certainly not over :data:`MAX_EVENT_BYTES`.
_WINDOW = MAX_EVENT_BYTES // 2
_GZIP_MAGIC = b"\x1f\x8b"


class BulkFallback(Exception):
    """The file must be landed by the per-event path (nothing the bulk path staged is kept)."""


class _Probe(msgspec.Struct):
    """Validates a line with the per-event parser and notes a ``batch`` key (even ``null``)."""

    batch: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_EMPTY_PROBE = _Probe()
_PROBE_DECODER = msgspec.json.Decoder(_Probe)


def enabled() -> bool:
    """Whether the bulk path may be used (``GW_LAND_BULK=0`` turns it off)."""
    return os.environ.get("GW_LAND_BULK", "1").strip().lower() not in ("0", "false", "no", "off")


def candidate(path: Path, size: int, context: BodyContext) -> bool:
    """Whether ``path`` looks like an NDJSON export the bulk path can take: big enough, no key or
    sent time from a sidecar, and (gzip or not) text that starts with a JSON object line followed
    by another line starting with ``{`` within its first :data:`_PEEK_BYTES` — a capture body,
    one JSON document, is not (the feeder checks the rest of the file)."""
    if not enabled() or size < BULK_MIN_BYTES or not hasattr(os, "mkfifo"):
        return False
    if context.api_key is not None or context.sent_at is not None:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_PEEK_BYTES)
    except OSError:
        return False
    if head[:2] == _GZIP_MAGIC:
        try:
            head = zlib.decompressobj(31).decompress(head, _PEEK_BYTES)
        except zlib.error:
            return False
    end = head.find(b"\n")
    return head[:1] == b"{" and end > 0 and head[end + 1 :].lstrip(b" \t\r\n")[:1] == b"{"


# --------------------------------------------------------------------------------------------
# the feeder: decompress, validate, stream to DuckDB


class _Feeder(threading.Thread):
    """Streams the decompressed file into the pipe DuckDB reads, validating it on the way and
    keeping recent text so that rows can be re-done from their raw line."""

    def __init__(self, source: Path, fifo: Path) -> None:
        super().__init__(name="gw-bulk-feeder", daemon=True)
        self.source = source
        self.fifo = fifo
        self.refused: str | None = None
        """Why the file must take the per-event path (set before the feeder stops)."""
        self.error: BaseException | None = None
        self.lines = 0
        self.long_rows: set[int] = set()
        """Rows whose line is longer than :data:`MAX_EVENT_BYTES` (the per-event path
        quarantines them as ``oversized``)."""
        self.cancelled = False
        self._kept: deque[tuple[int, int, bytes]] = deque()  # (first row, rows, text)
        self._lock = threading.Lock()

    # -- called from the landing thread ----------------------------------------------------

    def raw_lines(self, rows: list[int]) -> dict[int, bytes]:
        """The stripped raw lines of ``rows`` (ascending), as the per-event path reads them."""
        wanted = sorted(rows)
        found: dict[int, bytes] = {}
        with self._lock:
            kept = list(self._kept)
        position = 0
        for first, count, text in kept:
            if position >= len(wanted):
                break
            if wanted[position] >= first + count:
                continue
            lines = [line.strip() for line in text.split(b"\n")]
            lines = [line for line in lines if line]
            while position < len(wanted) and wanted[position] < first + count:
                row = wanted[position]
                if row >= first:
                    found[row] = lines[row - first]
                position += 1
        missing = [row for row in wanted if row not in found]
        if missing:
            raise BulkFallback(f"raw lines of rows {missing[:5]} are no longer kept")
        return found

    def release(self, below: int) -> None:
        """Forget text whose rows are all below ``below``."""
        with self._lock:
            while self._kept and self._kept[0][0] + self._kept[0][1] <= below:
                self._kept.popleft()

    def stop(self) -> None:
        """Make the thread finish: stop writing and unblock a pending open of the pipe."""
        self.cancelled = True
        try:
            fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            fd = -1
        if fd >= 0:
            os.close(fd)
        self.join(timeout=30)

    # -- the thread -------------------------------------------------------------------------

    def run(self) -> None:
        try:
            with open(self.fifo, "wb", buffering=0) as out:
                for text in self._texts():
                    if self.cancelled or self.refused:
                        return
                    self._check(text)
                    if self.refused:
                        return
                    view = memoryview(text)
                    while view and not self.cancelled:
                        view = view[out.write(view) or 0 :]
        except BrokenPipeError:
            if not self.cancelled and self.refused is None:
                self.refused = "DuckDB stopped reading"
        except BaseException as exc:  # reported to the landing thread
            self.error = exc

    def _refuse(self, why: str) -> None:
        if self.refused is None:
            self.refused = why

    def _raw_chunks(self) -> Iterator[bytes]:
        """The file's decompressed bytes (one gzip layer, concatenated members, zero padding)."""
        with self.source.open("rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head != _GZIP_MAGIC:
                while chunk := handle.read(_CHUNK_BYTES):
                    yield chunk
                return
            inflater = zlib.decompressobj(31)
            pending = b""
            while True:
                data = pending or handle.read(_CHUNK_BYTES // 4)
                pending = b""
                if not data:
                    break
                if inflater.eof:  # a member ended: zero padding, another member, or junk
                    data = data.lstrip(b"\x00")
                    if not data:
                        continue
                    if len(data) < 2:
                        data += handle.read(1)
                    if not data.startswith(_GZIP_MAGIC):
                        self._refuse("data after the gzip stream")
                        return
                    inflater = zlib.decompressobj(31)
                try:
                    out = inflater.decompress(data, _CHUNK_BYTES)
                    while out:
                        yield out
                        out = inflater.decompress(inflater.unconsumed_tail, _CHUNK_BYTES)
                except zlib.error:
                    self._refuse("corrupt gzip")
                    return
                if inflater.eof:
                    pending = inflater.unused_data
            if not inflater.eof:
                self._refuse("truncated gzip")

    def _texts(self) -> Iterator[bytes]:
        """Decompressed text cut after its last newline (a final line without one included)."""
        carry = b""
        first = True
        for chunk in self._raw_chunks():
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            text, carry = data[:cut], data[cut:]
            if first:
                first = False
                self._check_start(text)
                if self.refused:
                    return
            yield text
        if self.refused:
            return
        if carry:
            if first:
                self._check_start(carry)
            yield carry
        elif first:
            self._refuse("no complete line")

    def _check_start(self, text: bytes) -> None:
        """The per-event decoder treats the file as NDJSON only when its first line is a JSON
        object and a second non-blank line follows (see ``_json_payload``)."""
        if not text.startswith(b"{"):
            self._refuse("the text does not start with '{'")
            return
        end = text.find(b"\n")
        if end < 0 or not text[end:].strip():
            self._refuse("fewer than two lines")
            return
        try:
            first = msgspec.json.decode(text[:end].strip())
        except (msgspec.DecodeError, RecursionError):
            self._refuse("the first line is not JSON")
            return
        if not isinstance(first, dict):
            self._refuse("the first line is not an object")

    def _check(self, text: bytes) -> None:
        try:
            probes = _PROBE_DECODER.decode_lines(text)
        except (msgspec.DecodeError, RecursionError) as exc:
            self._refuse(f"a line the per-event parser refuses ({exc})")
            return
        if probes.count(_EMPTY_PROBE) != len(probes):
            self._refuse("a line with a `batch` key")
            return
        first = self.lines
        self.lines += len(probes)
        if self._has_long_line(text):
            lines = [line.strip() for line in text.split(b"\n")]
            lines = [line for line in lines if line]
            self.long_rows.update(first + i for i, line in enumerate(lines) if len(line) > MAX_EVENT_BYTES)
        with self._lock:
            self._kept.append((first, len(probes), text))

    @staticmethod
    def _has_long_line(text: bytes) -> bool:
        """Whether a line may be longer than :data:`MAX_EVENT_BYTES`: a line that long spans a
        whole aligned window of :data:`_WINDOW` bytes with no newline in it."""
        if len(text) <= MAX_EVENT_BYTES:
            return False
        return any(text.find(b"\n", start, start + _WINDOW) < 0 for start in range(0, len(text), _WINDOW))


# --------------------------------------------------------------------------------------------
# the SQL: parse and lift, nothing else (the checks are vectorised in Python, below)

_COLUMNS = (
    "{uuid: 'JSON', event: 'JSON', distinct_id: 'JSON', \"timestamp\": 'JSON', properties: 'JSON', "
    "team_id: 'JSON', project_id: 'JSON', api_key: 'JSON', token: 'JSON', sent_at: 'JSON', "
    "\"$groups\": 'JSON', \"$set\": 'JSON', \"$set_once\": 'JSON', \"set\": 'JSON', "
    "set_once: 'JSON', batch: 'JSON'}"
)

# JSON columns come out as their JSON text (strings keep their quotes), re-written compactly by
# yyjson.  Keys inside ``properties`` are looked up only when their name is in the text: rows
# with escapes anywhere in ``properties`` are re-done, and without escapes a key is spelled
# literally.
_SELECT = f"""
select
    uuid::varchar as u, event::varchar as e, distinct_id::varchar as d, "timestamp"::varchar as t,
    properties::varchar as p,
    case when regexp_full_match(coalesce(team_id, project_id)::varchar, '[0-9]{{1,18}}')
         then coalesce(team_id, project_id)::varchar::bigint end as team,
    team_id is not null as has_team,
    "set"::varchar as x_set, set_once::varchar as x_set_once,
    api_key is not null or token is not null or sent_at is not null or "$groups" is not null
        or "$set" is not null or "$set_once" is not null or contains(properties, '"token":') as rare,
    case when contains(properties, '"$groups":') then json_extract(properties, '$."$groups"')::varchar end as pg,
    case when contains(properties, '"$set":') then json_extract(properties, '$."$set"')::varchar end as ps,
    case when contains(properties, '"$set_once":') then json_extract(properties, '$."$set_once"')::varchar end
        as pso,
    case when event = '"$groupidentify"' then json_extract(properties, '$."$group_type"')::varchar end as gt,
    case when event = '"$groupidentify"' then json_extract(properties, '$."$group_key"')::varchar end as gk,
    case when contains(properties, '"$group_set":') then json_extract(properties, '$."$group_set"')::varchar end
        as gs,
    concat_ws(chr(30),
        case when starts_with(properties, '{{') then array_to_string(json_keys(properties), chr(31)) end,
        case when starts_with(pg, '{{') then array_to_string(json_keys(pg), chr(31)) end,
        case when starts_with(ps, '{{') then array_to_string(json_keys(ps), chr(31)) end,
        case when starts_with(pso, '{{') then array_to_string(json_keys(pso), chr(31)) end,
        case when starts_with(gs, '{{') then array_to_string(json_keys(gs), chr(31)) end,
        case when starts_with(x_set, '{{') then array_to_string(json_keys(x_set), chr(31)) end,
        case when starts_with(x_set_once, '{{') then array_to_string(json_keys(x_set_once), chr(31)) end
    ) as key_sets
from read_json('{{file}}', format = 'newline_delimited', compression = 'none', columns = {_COLUMNS})
"""

#: Text in an object that yyjson (DuckDB) and msgspec (the per-event path) may write
#: differently: any escape (``\\u001f`` vs ``\\u001F``), floats of magnitude ≥ 1e16 (positional
#: in yyjson) or below 1e-5 (``0.00000…``), exponents (overflowing numbers stay raw in yyjson).
_TEXT_GUARD = r"\\|0\.00000|[0-9]{17}\.|[0-9][eE]"


# --------------------------------------------------------------------------------------------
# landing one file


@dataclass
class _Output:
    """Rows of one file on their way to the stage."""

    stage: FileStage
    quarantine: QuarantineWriter
    resolver: ProjectResolver
    received_at: datetime
    loaded_at: datetime
    rejected: QuarantineRows = field(default_factory=QuarantineRows)


def land_file(
    path: Path,
    *,
    stage: FileStage,
    quarantine: QuarantineWriter,
    resolver: ProjectResolver,
    received_at: datetime,
    loaded_at: datetime,
    threads: int = 1,
) -> None:
    """Land the NDJSON file at ``path`` into ``stage`` / ``quarantine``.

    Raises :class:`BulkFallback` when the file must be landed by the per-event path instead;
    the caller then discards whatever was staged.
    """
    import duckdb

    folder = Path(tempfile.mkdtemp(prefix="gw-bulk-"))
    fifo = folder / "stream.jsonl"
    os.mkfifo(fifo)
    feeder = _Feeder(path, fifo)
    output = _Output(stage, quarantine, resolver, received_at, loaded_at)
    checks = _Checks(resolver, received_at)
    connection = duckdb.connect(config={"threads": max(1, threads)})
    first_row = 0
    try:
        feeder.start()
        try:
            query = _SELECT.replace("{file}", str(fifo).replace("'", "''"))
            reader = connection.sql(query).to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                if feeder.refused or feeder.error:
                    break
                _take(batch, first_row, feeder, output, checks)
                first_row += batch.num_rows
                feeder.release(first_row)
        except duckdb.Error as exc:
            connection.close()  # lets a feeder blocked on the pipe fail with EPIPE
            feeder.stop()
            raise BulkFallback(f"DuckDB: {str(exc).splitlines()[0][:200]}") from None
        feeder.join()
        if feeder.error is not None:
            raise feeder.error
        if feeder.refused:
            raise BulkFallback(feeder.refused)
        if feeder.lines != first_row:
            raise BulkFallback(f"{feeder.lines} lines but DuckDB read {first_row} rows")
        quarantine.write(output.rejected)
    finally:
        connection.close()
        if feeder.is_alive():
            feeder.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _take(batch: pa.RecordBatch, first_row: int, feeder: _Feeder, output: _Output, checks: _Checks) -> None:
    """Stage the rows of ``batch`` the checks pass and re-do the others with the per-event code."""
    n = batch.num_rows
    ok, columns = checks.run(batch)
    for row in feeder.long_rows:
        if first_row <= row < first_row + n:
            ok[row - first_row] = False
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    if ok.all():
        table = _bulk_table(columns, rows, output)
        project_ids = columns["project_id"]
        redo: list[int] = []
    else:
        good = pa.array(np.flatnonzero(ok))
        table = _bulk_table({k: v.take(good) for k, v in columns.items()}, rows[ok], output)
        project_ids = columns["project_id"].take(good)
        redo = rows[~ok].tolist()
    if redo:
        events = EventRows()
        for row, line in feeder.raw_lines(redo).items():
            normalise_segment(
                Segment(BodyContext(), [decode._parse_line(line)]),
                first_row=row,
                received_at=output.received_at,
                resolver=output.resolver,
                rows=events,
                quarantine=output.rejected,
            )
        if len(events):
            extra = rows_to_table(
                events,
                source_hash=output.stage.source_hash,
                source_name=output.stage.source_name,
                received_at=output.received_at,
                loaded_at=output.loaded_at,
            )
            merged = pa.concat_tables([table, extra])
            ids = pa.concat_arrays([project_ids, pa.array(events.project_id, type=pa.int64())])
            order = pc.sort_indices(merged.column("source_row"))
            table, project_ids = merged.take(order), ids.take(order)
    output.stage.write_table(table, project_ids)
    if len(output.rejected) >= _QUARANTINE_FLUSH:
        output.quarantine.write(output.rejected)
        output.rejected = QuarantineRows()


def _bulk_table(columns: dict[str, pa.Array], rows: Any, output: _Output) -> pa.Table:
    n = len(rows)
    received = naive_utc(output.received_at)
    loaded = naive_utc(output.loaded_at)
    arrays: list[Any] = [
        columns["event_uuid"],
        columns["event"],
        columns["distinct_id"],
        epoch_to_timestamps(columns["seconds"]),
        pa.nulls(n, type=EVENT_SCHEMA.field("sent_at").type),
        pa.repeat(pa.scalar(received, type=EVENT_SCHEMA.field("received_at").type), n),
        columns["properties"],
        columns["groups"],
        columns["person_set"],
        columns["person_set_once"],
        columns["group_type"],
        columns["group_key"],
        columns["group_set"],
        pa.repeat(pa.scalar(output.stage.source_hash, type=pa.string()), n),
        pa.repeat(pa.scalar(output.stage.source_name, type=pa.string()), n),
        pa.array(rows, type=pa.int32()),
        pa.repeat(pa.scalar(loaded, type=EVENT_SCHEMA.field("loaded_at").type), n),
    ]
    arrays = [a.cast(f.type) if a.type != f.type else a for a, f in zip(arrays, EVENT_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


# --------------------------------------------------------------------------------------------
# the checks, vectorised: a row is taken only if the per-event path would give the same


class _Strings:
    """A string column as numpy views: validity, offsets, bytes."""

    def __init__(self, array: pa.Array) -> None:
        if array.type != pa.string():
            array = array.cast(pa.string())
        self.array = array
        n = len(array)
        self.valid = (
            np.ones(n, dtype=bool)
            if array.null_count == 0
            else np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False))
        )
        buffers = array.buffers()
        self.offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=array.offset * 4)
        self.data = (
            np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(1, np.uint8)
        )
        self.starts = self.offsets[:-1]
        self.lengths = np.diff(self.offsets)

    def first_byte_is(self, byte: int) -> Any:
        out = np.zeros(len(self.lengths), dtype=bool)
        some = self.valid & (self.lengths > 0)
        out[some] = self.data[self.starts[some]] == byte
        return out

    def per_row_count(self, byte: int) -> Any:
        """Occurrences of ``byte`` in every row."""
        hits = np.concatenate(([0], np.cumsum(self.data == byte, dtype=np.int64)))
        return hits[self.offsets[1:]] - hits[self.starts]

    def without_byte(self, byte: int) -> Any:
        """Rows without ``byte`` (one scan of the batch; per row only when it occurs)."""
        lo, hi = int(self.offsets[0]), int(self.offsets[-1])
        if not (self.data[lo:hi] == byte).any():
            return np.ones(len(self.lengths), dtype=bool)
        return self.per_row_count(byte) == 0

    def count(self, byte: int) -> int:
        lo, hi = int(self.offsets[0]), int(self.offsets[-1])
        return int(np.count_nonzero(self.data[lo:hi] == byte))

    def unquoted(self) -> pa.Array:
        return pc.utf8_slice_codeunits(self.array, 1, -1)

    def matrix(self, rows: Any, width: int) -> Any:
        """The first ``width`` bytes of ``rows`` (which must be that long) as a 2-D array; a
        view of the buffer when every row of the batch is one of them."""
        if len(rows) == len(self.lengths):
            lo = int(self.offsets[0])
            return self.data[lo : lo + len(rows) * width].reshape(len(rows), width)
        return self.data[self.starts[rows][:, None] + np.arange(width)]


_UUID_HYPHENS = (9, 14, 19, 24)
_UUID_HEX = [i for i in range(1, 37) if i not in _UUID_HYPHENS]


def _days_from_civil(y: Any, m: Any, d: Any) -> Any:
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised; H. Hinnant's method)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


class _Checks:
    """Vectorised checks and column building for one file."""

    def __init__(self, resolver: ProjectResolver, received_at: datetime) -> None:
        self.ids = pa.array(sorted(resolver.ids), type=pa.int64())
        self.received = received_at.timestamp()
        self.future = self.received + FUTURE_LIMIT.total_seconds()
        self.key_sets_seen: dict[str, bool] = {}

    def run(self, batch: pa.RecordBatch) -> tuple[Any, dict[str, pa.Array]]:
        n = batch.num_rows
        col = batch.column
        ok = ~np.asarray(pc.fill_null(col("rare"), True).to_numpy(zero_copy_only=False))

        uuid = _Strings(col("u"))
        ok &= self._uuid_ok(uuid)
        event = _Strings(col("e"))
        ok &= (
            event.valid & (event.lengths > 2) & event.first_byte_is(ord('"')) & event.without_byte(ord("\\"))
        )
        distinct = _Strings(col("d"))  # numbers and over-long ids are re-done
        ok &= distinct.valid & (distinct.lengths > 2) & (distinct.lengths <= MAX_DISTINCT_ID_CHARS + 2)
        ok &= distinct.first_byte_is(ord('"')) & distinct.without_byte(ord("\\"))
        seconds, ts_ok = self._timestamps(_Strings(col("t")))
        ok &= ts_ok
        project = col("team")
        ok &= np.asarray(
            pc.fill_null(pc.is_in(project, value_set=self.ids), False).to_numpy(zero_copy_only=False)
        )

        properties = pc.fill_null(col("p"), "{}")
        props = _Strings(properties)
        ok &= props.first_byte_is(ord("{")) & (props.lengths <= MAX_EVENT_BYTES)
        ok &= self._text_ok(properties, props)
        objects = np.ones(n, dtype=np.int64)
        lifted = {}
        for name in ("pg", "ps", "pso", "gs"):
            lifted[name] = _Strings(col(name))
            objects += lifted[name].first_byte_is(ord("{"))
        # every nested object is one of those, and flat: no repeated key can hide elsewhere
        if props.count(ord("{")) != int(objects.sum()):
            ok &= props.per_row_count(ord("{")) == objects
        if props.count(ord("[")) > 60:
            ok &= props.per_row_count(ord("[")) <= 60

        groups, groups_ok = self._groups(col("pg"), lifted["pg"])
        ok &= groups_ok
        person_set, person_set_once, sets_ok = self._person_sets(batch, lifted["ps"], lifted["pso"])
        ok &= sets_ok
        group_type, group_key, group_set, identify_ok = self._identify(batch, event)
        ok &= identify_ok
        ok &= self._unique_keys(col("key_sets"))

        columns = {
            "event_uuid": pc.ascii_lower(uuid.unquoted()),
            "event": event.unquoted(),
            "distinct_id": distinct.unquoted(),
            "seconds": pa.array(seconds, type=pa.float64()),
            "properties": properties,
            "groups": groups,
            "person_set": person_set,
            "person_set_once": person_set_once,
            "group_type": group_type,
            "group_key": group_key,
            "group_set": group_set,
            "project_id": project,
        }
        return ok, columns

    # -- the pieces ------------------------------------------------------------------------

    @staticmethod
    def _uuid_ok(uuid: _Strings) -> Any:
        ok = uuid.valid & (uuid.lengths == 38)
        rows = np.flatnonzero(ok)
        if len(rows):
            m = uuid.matrix(rows, 38)
            hexes = m[:, _UUID_HEX] | 32  # lower-case letters
            is_hex = ((hexes - np.uint8(48)) < 10) | ((hexes - np.uint8(97)) < 6)
            good = (m[:, 0] == 34) & (m[:, 37] == 34) & is_hex.all(axis=1)
            for i in _UUID_HYPHENS:
                good &= m[:, i] == 45
            ok[rows] = good
        return ok

    def _timestamps(self, ts: _Strings) -> tuple[Any, Any]:
        """``"YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM]"`` parsed as ``datetime.fromisoformat``
        does (fractions truncated to µs, naive = UTC), then PostHog's 23 h clamp; float epoch
        seconds exactly as the per-event path computes them."""
        n = len(ts.lengths)
        seconds = np.zeros(n, dtype=np.float64)
        ok = np.zeros(n, dtype=bool)
        for width in np.unique(ts.lengths[ts.valid]):
            width = int(width)
            if not 21 <= width <= 38:
                continue
            rows = np.flatnonzero(ts.valid & (ts.lengths == width))
            m = ts.matrix(rows, width).astype(np.int32)
            shape = (m[:, 0] == 34) & (m[:, width - 1] == 34) & (m[:, 5] == 45) & (m[:, 8] == 45)
            shape &= ((m[:, 11] == 84) | (m[:, 11] == 32)) & (m[:, 14] == 58) & (m[:, 17] == 58)
            digit = m - 48
            shape &= (digit[:, [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19]].astype(np.uint32) < 10).all(
                axis=1
            )
            tail = width - 21  # bytes between the seconds and the closing quote
            year = digit[:, 1] * 1000 + digit[:, 2] * 100 + digit[:, 3] * 10 + digit[:, 4]
            month = digit[:, 6] * 10 + digit[:, 7]
            day = digit[:, 9] * 10 + digit[:, 10]
            clock = (digit[:, 12] * 10 + digit[:, 13]) * 3600 + (digit[:, 15] * 10 + digit[:, 16]) * 60
            clock += digit[:, 18] * 10 + digit[:, 19]
            valid = (year >= 1700) & (year <= 2250) & (month >= 1) & (month <= 12)
            valid &= (digit[:, 12] * 10 + digit[:, 13] <= 23) & (digit[:, 15] <= 5) & (digit[:, 18] <= 5)
            leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
            month_days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
            valid &= (day >= 1) & (day <= month_days)
            micros = np.zeros(len(rows), dtype=np.int64)
            offset = np.zeros(len(rows), dtype=np.int64)
            tail_ok = np.zeros(len(rows), dtype=bool)
            for zone in (0, 1, 6):  # none, Z, ±HH:MM
                rest = tail - zone
                if rest < 0 or rest == 1 or rest > 10:
                    continue
                fits = shape.copy()
                z = 20 + rest  # first byte of the zone
                if rest:
                    fits &= m[:, 20] == 46
                    fits &= (digit[:, 21:z].astype(np.uint32) < 10).all(axis=1)
                if zone == 1:
                    fits &= m[:, z] == 90
                elif zone == 6:
                    fits &= ((m[:, z] == 43) | (m[:, z] == 45)) & (m[:, z + 3] == 58)
                    fits &= (digit[:, [z + 1, z + 2, z + 4, z + 5]].astype(np.uint32) < 10).all(axis=1)
                    hours = digit[:, z + 1] * 10 + digit[:, z + 2]
                    minutes = digit[:, z + 4] * 10 + digit[:, z + 5]
                    fits &= (hours <= 23) & (minutes <= 59)
                    sign = np.where(m[:, z] == 45, -1, 1)
                    offset = np.where(fits, sign * (hours * 3600 + minutes * 60), offset)
                if rest:
                    frac = np.zeros(len(rows), dtype=np.int64)
                    for k in range(6):
                        frac = frac * 10 + (digit[:, 21 + k] if 21 + k < z else 0)
                    micros = np.where(fits, frac, micros)
                tail_ok |= fits
            valid &= shape & tail_ok
            days = _days_from_civil(year.astype(np.int64), month.astype(np.int64), np.where(valid, day, 1))
            total = (days * 86400 + clock - offset) * 1_000_000 + micros
            value = total.astype(np.float64) / 1e6
            value = np.where(value > self.future, self.received, value)
            seconds[rows] = value
            ok[rows] = valid
        return seconds, ok

    @staticmethod
    def _text_ok(text: pa.Array, strings: _Strings) -> Any:
        """Rows whose JSON text yyjson and msgspec write the same (see :data:`_TEXT_GUARD`):
        one scan of the batch, and the regex per row only when the scan finds a candidate."""
        lo, hi = int(strings.offsets[0]), int(strings.offsets[-1])
        data = strings.data[lo:hi]
        if data.size < 2:
            return np.ones(len(strings.lengths), dtype=bool)
        digit = (data - np.uint8(48)) < 10
        suspicious = bool((data == 92).any()) or bool((((data[1:] | 32) == 101) & digit[:-1]).any())
        if not suspicious:
            dots = np.flatnonzero(data == 46)
            inner = dots[(dots >= 17) & (dots + 5 < data.size)]
            suspicious = bool((digit[inner - 1] & digit[inner - 17]).any()) or bool(
                (
                    (data[inner - 1] == 48)
                    & (data[inner + 1] == 48)
                    & (data[inner + 2] == 48)
                    & (data[inner + 3] == 48)
                    & (data[inner + 4] == 48)
                    & (data[inner + 5] == 48)
                ).any()
            )
            edge = dots[(dots < 17) | (dots + 5 >= data.size)]
            suspicious = suspicious or bool(edge.size)  # too near the batch edges to look around
        if not suspicious:
            return np.ones(len(strings.lengths), dtype=bool)
        hit = pc.match_substring_regex(text, _TEXT_GUARD)
        return ~np.asarray(pc.fill_null(hit, True).to_numpy(zero_copy_only=False))

    def _groups(self, pg: pa.Array, strings: _Strings) -> tuple[pa.Array, Any]:
        """``$groups`` as sent when it is an object of strings, else ``{}``; an object with
        other values is re-done (its values are stringified in Python)."""
        is_object = strings.first_byte_is(ord("{"))
        ok = np.ones(len(strings.lengths), dtype=bool)
        if is_object.any():
            # every row has at least as many `":` as `":"`: equal totals mean equal rows
            keys = _pair_count(strings, b'":', total=True)
            values = _pair_count(strings, b'":"', total=True)
            if keys != values:
                ok = ~is_object | (_pair_count(strings, b'":') == _pair_count(strings, b'":"'))
        groups = pc.if_else(pa.array(is_object), pg, pa.scalar("{}", type=pa.string()))
        return groups, ok

    def _person_sets(
        self, batch: pa.RecordBatch, ps: _Strings, pso: _Strings
    ) -> tuple[pa.Array, pa.Array, Any]:
        n = batch.num_rows
        set_obj = ps.first_byte_is(ord("{"))
        once_obj = pso.first_byte_is(ord("{"))
        person_set = pc.if_else(pa.array(set_obj), batch.column("ps"), pa.scalar(None, type=pa.string()))
        person_set_once = pc.if_else(
            pa.array(once_obj), batch.column("pso"), pa.scalar(None, type=pa.string())
        )
        ok = np.ones(n, dtype=bool)
        x_set, x_once = batch.column("x_set"), batch.column("x_set_once")
        if x_set.null_count == n and x_once.null_count == n:
            return person_set, person_set_once, ok
        # batch-export `set` / `set_once`: used when there is neither $set nor $set_once, and only
        # when team_id is there (a null team_id cannot be told from a missing one: re-done)
        use = ~set_obj & ~once_obj
        has_team = np.asarray(pc.fill_null(batch.column("has_team"), False).to_numpy(zero_copy_only=False))
        out = []
        for column in (x_set, x_once):
            strings = _Strings(column)
            present = strings.valid & (strings.lengths > 0)
            obj = strings.first_byte_is(ord("{"))
            text_string = strings.first_byte_is(ord('"')) & (strings.lengths > 2)
            ok &= ~(use & present & ~has_team)
            ok &= ~(use & text_string)
            if obj.any():
                flat = strings.per_row_count(ord("{")) == 1
                ok &= ~(use & obj) | (
                    flat & self._text_ok(column, strings) & (strings.lengths <= MAX_EVENT_BYTES)
                )
            out.append(pc.if_else(pa.array(use & obj & has_team), column, pa.scalar(None, type=pa.string())))
        person_set = pc.if_else(pa.array(use), out[0], person_set)
        person_set_once = pc.if_else(pa.array(use), out[1], person_set_once)
        return person_set, person_set_once, ok

    @staticmethod
    def _identify(batch: pa.RecordBatch, event: _Strings) -> tuple[pa.Array, pa.Array, pa.Array, Any]:
        n = batch.num_rows
        none = pa.nulls(n, type=pa.string())
        gt = batch.column("gt")
        if gt.null_count == n and batch.column("gk").null_count == n and batch.column("gs").null_count == n:
            identify = np.asarray(
                pc.equal(batch.column("e"), '"$groupidentify"').to_numpy(zero_copy_only=False)
            )
            if not identify.any():
                return none, none, none, np.ones(n, dtype=bool)
        identify = np.asarray(
            pc.fill_null(pc.equal(batch.column("e"), '"$groupidentify"'), False).to_numpy(
                zero_copy_only=False
            )
        )
        types = _Strings(gt)
        keys = _Strings(batch.column("gk"))
        sets = _Strings(batch.column("gs"))
        group_type = pc.if_else(pa.array(identify & types.first_byte_is(ord('"'))), types.unquoted(), none)
        key_text = keys.first_byte_is(ord('"'))
        key_plain = pc.fill_null(
            pc.match_substring_regex(batch.column("gk"), r"^(-?[0-9]+|true|false)$"), False
        )
        key_plain_np = np.asarray(key_plain.to_numpy(zero_copy_only=False))
        key_null = ~keys.valid | np.asarray(
            pc.fill_null(pc.equal(batch.column("gk"), "null"), False).to_numpy(zero_copy_only=False)
        )
        ok = ~identify | key_null | key_text | key_plain_np
        group_key = pc.if_else(
            pa.array(identify & key_text),
            keys.unquoted(),
            pc.if_else(pa.array(identify & key_plain_np), batch.column("gk"), none),
        )
        group_set = pc.if_else(pa.array(identify & sets.first_byte_is(ord("{"))), batch.column("gs"), none)
        return group_type, group_key, group_set, ok

    def _unique_keys(self, key_sets: pa.Array) -> Any:
        """Rows none of whose objects repeats a key (msgspec keeps the last value, yyjson all)."""
        n = len(key_sets)
        seen = self.key_sets_seen
        repeated = []
        for text in pc.unique(key_sets).to_pylist():
            if text not in seen:
                seen[text] = _has_repeated_key(text)
            if seen[text]:
                repeated.append(text)
        if not repeated:
            return np.ones(n, dtype=bool)
        hit = pc.is_in(key_sets, value_set=pa.array(repeated, type=pa.string()))
        return ~np.asarray(pc.fill_null(hit, True).to_numpy(zero_copy_only=False))


def _pair_count(strings: _Strings, pattern: bytes, *, total: bool = False) -> Any:
    """Occurrences of a short byte pattern in every row (or in the whole batch)."""
    data = strings.data
    hit = np.ones(max(len(data) - len(pattern) + 1, 0), dtype=bool)
    for i, byte in enumerate(pattern):
        hit &= data[i : len(data) - len(pattern) + 1 + i] == byte
    if total:
        lo, hi = int(strings.offsets[0]), int(strings.offsets[-1])
        return int(np.count_nonzero(hit[lo : max(lo, hi - len(pattern) + 1)]))
    counts = np.concatenate(([0], np.cumsum(hit, dtype=np.int64), [0] * (len(pattern) - 1)))
    ends = np.maximum(strings.offsets[1:] - len(pattern) + 1, strings.starts)
    return counts[ends] - counts[strings.starts]


def _has_repeated_key(key_sets: str | None) -> bool:
    """Whether one of the objects listed in ``key_sets`` (objects separated by U+001E, their
    keys by U+001F) has a key twice."""
    if key_sets is None:
        return True
    for keys in key_sets.split("\x1e"):
        names = keys.split("\x1f") if keys else []
        if len(set(names)) != len(names):
            return True
    return False
