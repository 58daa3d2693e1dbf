"""JSON for the landing's hot paths: msgspec, with a lenient fallback.

msgspec is used rather than orjson because, in the versions pinned here, ``orjson.dumps`` costs
about 2 µs per call whatever the size of the value (slower than the stdlib for small objects),
and the loader serialises several small objects per event; ``msgspec.json`` encodes them in
~0.2 µs and decodes whole bodies faster too.  Both keep the *last* value of a repeated key.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

DecodeError = msgspec.DecodeError
#: What :data:`loads` raises for input that is not JSON (msgspec reports bad UTF-8 as
#: ``UnicodeDecodeError`` and very deep nesting as ``RecursionError``).
DECODE_ERRORS: tuple[type[Exception], ...] = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_sorted_encoder = msgspec.json.Encoder(order="sorted")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

loads = _decoder.decode
"""Strict JSON → Python (``dict``/``list``/scalars). Raises :data:`DecodeError`."""

dumps = _encoder.encode
"""Python → compact JSON bytes. Raises ``TypeError``/``ValueError`` on what JSON cannot hold."""


def sanitize(value: Any) -> Any:
    """Make any decoded value encodable: non-finite floats → ``null``, lone surrogates → U+FFFD,
    non-string keys → their text, unknown objects → ``str()``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _SURROGATE_RE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {sanitize(k if isinstance(k, str) else _key_text(k)): sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    return sanitize(str(value))


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def dumps_safe(value: Any) -> bytes:
    """:data:`dumps` that never fails (sanitising when needed)."""
    try:
        return _encoder.encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return _encoder.encode(sanitize(value))


def dumps_sorted(value: Any) -> bytes:
    """Canonical JSON (keys sorted, compact, UTF-8); never fails."""
    try:
        return _sorted_encoder.encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return _sorted_encoder.encode(sanitize(value))


def dumps_pretty(value: Any) -> bytes:
    """Sorted, indented JSON for small files people read (manifests)."""
    return msgspec.json.format(dumps_sorted(value), indent=2)


def loads_lenient(data: bytes) -> Any:
    """Strict parse, else the stdlib for what real clients send but strict parsers refuse
    (``NaN``/``Infinity`` from Python clients, lone surrogate escapes), sanitised.

    Raises ``UnicodeDecodeError`` for bytes that are not UTF-8 and ``ValueError`` for text that
    is not JSON.
    """
    try:
        return _decoder.decode(data)
    except DECODE_ERRORS as first:
        text = data.decode("utf-8")
        try:
            return sanitize(json.loads(text))
        except RecursionError:
            raise ValueError(str(first)) from None
        except ValueError:
            raise ValueError(str(first)) from None
