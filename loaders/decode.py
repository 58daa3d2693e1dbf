"""Decode a capture file into JSON values, deciding by content, not by file name.

The decoder is a chain of layers, each recognised by the bytes in front of it (and, where the
bytes cannot tell, by the sidecar's ``Content-Encoding`` header or ``?compression=`` query):

1. **gzip** (magic ``1f 8b``; nested members and concatenated members too), streamed;
2. **zlib** (a valid two-byte zlib header) and **raw deflate** (only when declared);
3. **form-encoded** bodies ``data=<base64 or json>&compression=…`` (posthog-js ``sendBeacon``);
4. **base64** (standard or url-safe alphabet, padding optional; the decoded bytes must be
   recognisable: gzip, zlib, JSON or form);
5. then the payload itself: **Parquet** (magic ``PAR1``), one **JSON document** (a batch body
   ``{api_key|token, batch, sent_at|created_at}``, one event object, or a list of events), or
   **NDJSON** (one JSON value per line; a line may itself be a batch body or a list).

Memory stays bounded for big files: gzip layers and NDJSON are streamed in chunks, Parquet is
read by record batch.  A single JSON document is parsed whole and may be at most
:data:`MAX_DOCUMENT_BYTES` after decompression (capture bodies are limited to 20 MB by PostHog);
bigger exports should be NDJSON or Parquet.

The decoder yields :class:`Segment` s: a body context (api key, ``sent_at``) plus a list of items,
each a parsed JSON value or a :class:`Broken` marker for an item that could not be parsed (an
NDJSON line that is not JSON).  A file that cannot be decoded at all raises
:class:`FileRejected` — possibly after some segments were yielded (a gzip stream cut short), in
which case the caller discards what it staged for the file.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from loaders import jsonio
from loaders.reasons import Reason
from loaders.sidecar import Sidecar

#: The largest JSON document (after decompression) parsed in one piece.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: The largest single event (raw JSON text).
MAX_EVENT_BYTES = 1024 * 1024
#: How many encoding layers (gzip inside base64 inside form...) are unwrapped at most.
MAX_LAYERS = 6
#: Items per segment when streaming NDJSON or Parquet.
CHUNK_ITEMS = 50_000
#: Bytes read per NDJSON chunk.
_NDJSON_READ_HINT = 16 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_BASE64_RE = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")
_NUMERIC_RE = re.compile(r"\d+(?:\.\d+)?")


class FileRejected(Exception):
    """The whole file cannot be decoded; ``reason`` is a file-level :class:`Reason`."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Broken(NamedTuple):
    """An item that could not be parsed; it is quarantined with ``reason``."""

    reason: Reason
    detail: str
    raw: bytes


@dataclass(frozen=True)
class BodyContext:
    """What a body says about all of its events."""

    api_key: str | None = None
    """The body's ``api_key`` / ``token``, else the ``Authorization: Bearer`` token."""
    sent_at: datetime | None = None
    """The body's ``sent_at`` (``created_at`` for ``/i/v1/analytics/events``), else the
    ``?_=<epoch ms>`` query parameter posthog-js adds; aware UTC."""


@dataclass
class Segment:
    """A run of items that share a body context."""

    context: BodyContext
    items: list[Any]
    """Parsed JSON values (normally objects) or :class:`Broken` markers."""


# --------------------------------------------------------------------------------------------
# small helpers


def parse_sent_at(value: Any) -> datetime | None:
    """``sent_at`` as PostHog reads it: ISO-8601, or a number / numeric string of epoch **ms**.

    Returns aware UTC, or ``None`` when absent or unreadable (PostHog ignores a bad ``sent_at``).
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, UTC)
        if isinstance(value, str):
            text = value.strip()
            if _NUMERIC_RE.fullmatch(text):
                return datetime.fromtimestamp(float(text) / 1000, UTC)
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _key_of(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strip_front(data: bytes) -> bytes:
    data = data.lstrip(_WHITESPACE)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :].lstrip(_WHITESPACE)
    return data


def _looks_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and ((head[0] << 8) | head[1]) % 31 == 0


def loads_lenient(data: bytes) -> Any:
    """Parse a JSON document (see :func:`loaders.jsonio.loads_lenient`); raises
    :class:`FileRejected` with ``not_utf8`` or ``invalid_json``."""
    try:
        return jsonio.loads_lenient(data)
    except UnicodeDecodeError as exc:
        raise FileRejected(Reason.NOT_UTF8, f"byte {exc.start} is not UTF-8") from None
    except ValueError as exc:
        raise FileRejected(Reason.INVALID_JSON, str(exc)) from None


# --------------------------------------------------------------------------------------------
# in-memory layers (bodies that are not streamed)


def _decompress(data: bytes, wbits: int, name: str) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(data, MAX_DOCUMENT_BYTES + 1)
    except zlib.error as exc:
        raise FileRejected(Reason.CORRUPT_COMPRESSION, f"{name}: {exc}") from None
    if len(out) > MAX_DOCUMENT_BYTES:
        raise FileRejected(Reason.OVERSIZED, f"{name} body inflates beyond {MAX_DOCUMENT_BYTES} bytes")
    if not decompressor.eof:
        if wbits == 31:
            raise FileRejected(Reason.TRUNCATED_GZIP, "gzip stream ends before its end marker")
        raise FileRejected(Reason.CORRUPT_COMPRESSION, f"{name} stream ends before its end marker")
    rest = decompressor.unused_data
    if wbits == 31 and rest.lstrip(b"\x00"):
        # concatenated gzip members
        return out + _decompress(rest.lstrip(b"\x00"), wbits, name)
    return out


def _b64decode(data: bytes) -> bytes | None:
    compact = re.sub(rb"\s+", b"", data)
    if not compact:
        return None
    compact = compact.rstrip(b"=")
    compact += b"=" * (-len(compact) % 4)
    try:
        if b"-" in compact or b"_" in compact:
            return base64.urlsafe_b64decode(compact)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _recognisable(data: bytes) -> bool:
    head = _strip_front(data[:64])
    return (
        head.startswith((b"{", b"[", _GZIP_MAGIC, b"data=", _PARQUET_MAGIC))
        or _looks_zlib(head)
        or b"data=" in data[:4096]
    )


def _form_data(data: bytes) -> tuple[bytes, str | None] | None:
    """``data=<…>`` of a form body, and its ``compression`` field, or ``None``."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "data" not in fields:
        return None
    value = fields["data"].strip()
    compression = fields.get("compression")
    if value.startswith(("{", "[")):
        return value.encode("utf-8"), compression
    # form decoding turned '+' of base64 into ' ': put them back
    return value.replace(" ", "+").encode("ascii", "replace"), compression


def unwrap_bytes(data: bytes, declared: tuple[str, ...] = (), *, is_form: bool = False) -> bytes:
    """Remove encoding layers from an in-memory body until JSON or Parquet bytes remain.

    Raises :class:`FileRejected` for corrupt layers and ``empty_file`` for nothing left.
    """
    hints = set(declared)
    for _ in range(MAX_LAYERS):
        stripped = _strip_front(data)
        if not stripped:
            raise FileRejected(Reason.EMPTY_FILE, "nothing left after decoding")
        head = stripped[:16]
        if head.startswith(_GZIP_MAGIC):
            data = _decompress(stripped, 31, "gzip")
            continue
        if head.startswith((b"{", b"[", _PARQUET_MAGIC)):
            return stripped
        if _looks_zlib(head) and ("deflate" in hints or _zlib_ok(stripped)):
            data = _decompress(stripped, 15, "zlib")
            continue
        if stripped.startswith(b"data=") or is_form:
            form = _form_data(stripped)
            if form is not None:
                data, compression = form
                if compression:
                    hints.add(compression.strip().lower())
                is_form = False
                continue
        if "deflate" in hints:
            hints.discard("deflate")
            data = _decompress(stripped, -15, "deflate")
            continue
        if _BASE64_RE.fullmatch(stripped[:4096]) and _BASE64_RE.fullmatch(stripped):
            decoded = _b64decode(stripped)
            if decoded is not None and (_recognisable(decoded) or "base64" in hints):
                hints.discard("base64")
                data = decoded
                continue
        return stripped
    raise FileRejected(Reason.CORRUPT_COMPRESSION, f"more than {MAX_LAYERS} encoding layers")


def _zlib_ok(data: bytes) -> bool:
    try:
        zlib.decompressobj().decompress(data[:4096], 16)
    except zlib.error:
        return False
    return True


# --------------------------------------------------------------------------------------------
# documents and NDJSON


def _segments_of_value(value: Any, context: BodyContext) -> Iterator[Segment]:
    """The segments of one parsed JSON value (a document, or one NDJSON line)."""
    if isinstance(value, dict):
        if "batch" in value:
            batch = value["batch"]
            if not isinstance(batch, list):
                raise FileRejected(Reason.WRONG_TYPE, "`batch` is not a JSON list")
            api_key = _key_of(value.get("api_key")) or _key_of(value.get("token")) or context.api_key
            sent_at = parse_sent_at(value.get("sent_at"))
            if sent_at is None:
                sent_at = parse_sent_at(value.get("created_at"))
            if sent_at is None:
                sent_at = context.sent_at
            yield Segment(BodyContext(api_key=api_key, sent_at=sent_at), batch)
        else:
            yield Segment(context, [value])
    elif isinstance(value, list):
        yield Segment(context, value)
    else:
        raise FileRejected(Reason.NOT_AN_OBJECT, f"the body is a JSON {type(value).__name__}")


def _parse_line(line: bytes) -> Any:
    if len(line) > MAX_EVENT_BYTES:
        return Broken(Reason.OVERSIZED, f"line of {len(line)} bytes exceeds {MAX_EVENT_BYTES}", line)
    try:
        return jsonio.loads(line)
    except UnicodeDecodeError as exc:
        return Broken(Reason.NOT_UTF8, f"byte {exc.start} is not UTF-8", line)
    except jsonio.DECODE_ERRORS as exc:
        try:
            return loads_lenient(line)
        except FileRejected as rejected:
            return Broken(
                rejected.reason, str(exc) if rejected.reason == Reason.INVALID_JSON else rejected.detail, line
            )


def _ndjson(stream: io.BufferedIOBase, first_lines: list[bytes], context: BodyContext) -> Iterator[Segment]:
    items: list[Any] = []
    pending = first_lines
    while True:
        for line in pending:
            line = line.strip()
            if not line:
                continue
            value = _parse_line(line)
            if isinstance(value, dict) and "batch" in value or isinstance(value, list):
                if items:
                    yield Segment(context, items)
                    items = []
                try:
                    yield from _segments_of_value(value, context)
                except FileRejected as rejected:
                    items.append(Broken(rejected.reason, rejected.detail, line))
            else:
                items.append(value)
        if len(items) >= CHUNK_ITEMS:
            yield Segment(context, items)
            items = []
        pending = stream.readlines(_NDJSON_READ_HINT)
        if not pending:
            break
    if items:
        yield Segment(context, items)


def _json_payload(stream: io.BufferedIOBase, context: BodyContext) -> Iterator[Segment]:
    """A JSON document or NDJSON, told apart by the first line."""
    first = stream.readline(MAX_DOCUMENT_BYTES + 1)
    if first.startswith(_UTF8_BOM):
        first = first[len(_UTF8_BOM) :]
    second = stream.readline(MAX_DOCUMENT_BYTES + 1)
    while second and not second.strip():
        second = stream.readline(MAX_DOCUMENT_BYTES + 1)
    stripped_first = first.strip()

    if second and stripped_first.startswith(b"{") and _strip_front(second).startswith((b"{", b"[")):
        try:
            jsonio.loads(stripped_first)
            complete_line = True
        except jsonio.DECODE_ERRORS:
            # a complete-looking first line ending in '}' that is broken JSON: still NDJSON
            complete_line = stripped_first.endswith(b"}")
        if complete_line:
            yield from _ndjson(stream, [first, second], context)
            return

    # one document
    budget = MAX_DOCUMENT_BYTES - len(first) - len(second)
    rest = stream.read(budget + 1) if second else b""
    if len(rest) > budget:
        raise FileRejected(Reason.OVERSIZED, f"JSON document larger than {MAX_DOCUMENT_BYTES} bytes")
    document = first + second + rest
    try:
        value = loads_lenient(document)
    except FileRejected as rejected:
        if rejected.reason != Reason.INVALID_JSON:
            raise
        lines = [line for line in document.splitlines() if line.strip()]
        # an NDJSON body whose first line is broken: keep the good lines
        if len(lines) >= 2 and any(isinstance(_parse_line(line.strip()), dict) for line in lines[:64]):
            yield from _ndjson(io.BytesIO(), lines, context)
            return
        raise
    yield from _segments_of_value(value, context)


def _parquet(source: str | io.BytesIO, context: BodyContext) -> Iterator[Segment]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
        for batch in parquet.iter_batches(batch_size=CHUNK_ITEMS):
            yield Segment(context, batch.to_pylist())
    except (pa.ArrowException, OSError) as exc:
        raise FileRejected(Reason.INVALID_PARQUET, str(exc)) from None


# --------------------------------------------------------------------------------------------
# entry point


def body_context(sidecar: Sidecar | None) -> BodyContext:
    """The context a sidecar gives every body: the Bearer token and ``?_=`` sent time."""
    if sidecar is None:
        return BodyContext()
    return BodyContext(api_key=sidecar.bearer_token, sent_at=parse_sent_at(sidecar.query.get("_")))


def decode_file(path: Path, sidecar: Sidecar | None = None) -> Iterator[Segment]:
    """Decode the capture file at ``path`` into segments.

    Raises :class:`FileRejected` when the file as a whole cannot be decoded.
    """
    context = body_context(sidecar)
    declared = sidecar.encodings if sidecar else ()
    is_form = sidecar.is_form if sidecar else False
    with io.BufferedReader(io.FileIO(path, "rb"), buffer_size=1024 * 1024) as raw:
        head = raw.peek(64)[:64]
        if not head:
            raise FileRejected(Reason.EMPTY_FILE, "the file has no bytes")
        if head.startswith(_PARQUET_MAGIC):
            yield from _parquet(str(path), context)
            return
        try:
            stream: io.BufferedIOBase = raw
            layers = 0
            while head.startswith(_GZIP_MAGIC) and layers < MAX_LAYERS:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")
                head = stream.peek(64)[:64]
                layers += 1
            front = _strip_front(head)
            if front.startswith((b"{", b"[")):
                yield from _json_payload(stream, context)
                return
            # anything else is small: decode in memory
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise FileRejected(Reason.OVERSIZED, f"encoded body larger than {MAX_DOCUMENT_BYTES} bytes")
            if not _strip_front(data):
                raise FileRejected(Reason.EMPTY_FILE, "only white space")
            payload = unwrap_bytes(data, declared, is_form=is_form)
            if payload.startswith(_PARQUET_MAGIC):
                yield from _parquet(io.BytesIO(payload), context)
                return
            if not payload.startswith((b"{", b"[")):
                if not _is_utf8(payload):
                    raise FileRejected(Reason.NOT_UTF8, "the body is neither UTF-8 text nor a known encoding")
                try:
                    value = jsonio.loads(payload)
                except jsonio.DECODE_ERRORS:
                    raise FileRejected(
                        Reason.INVALID_JSON, f"unrecognised body starting {payload[:40]!r}"
                    ) from None
                raise FileRejected(Reason.NOT_AN_OBJECT, f"the body is a JSON {type(value).__name__}")
            yield from _json_payload(io.BytesIO(payload), context)
        except EOFError:
            raise FileRejected(Reason.TRUNCATED_GZIP, "gzip stream ends before its end marker") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise FileRejected(Reason.CORRUPT_COMPRESSION, f"gzip: {exc}") from None
