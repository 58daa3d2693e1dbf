"""The optional ``X.meta.json`` sidecar of a raw capture body ``X``.

``{"method", "path" (with query string), "headers" (object, or list of [name, value] pairs),
"received_at" (ISO-8601 or epoch seconds)}``; every field optional.  A sidecar that is not JSON,
or a field of the wrong shape, is ignored field by field: the body still lands (its received time
then falls back to the file's modification time) and the problem is kept in ``problems``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loaders import jsonio

SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Sidecar:
    """What the capture endpoint knew about a request besides its body."""

    method: str | None = None
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    """Header names lower-cased; a repeated header keeps its last value."""
    received_at: datetime | None = None
    """Aware, UTC."""
    problems: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer <token>`` header."""
        value = self.header("authorization")
        if not value:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    @property
    def encodings(self) -> tuple[str, ...]:
        """Declared encodings, outermost first: ``Content-Encoding`` then ``?compression=``."""
        declared: list[str] = []
        content_encoding = self.header("content-encoding") or ""
        declared.extend(part.strip().lower() for part in content_encoding.split(",") if part.strip())
        compression = self.query.get("compression", "").strip().lower()
        if compression:
            declared.append(compression)
        return tuple(declared)

    @property
    def is_form(self) -> bool:
        """Whether the body is declared ``application/x-www-form-urlencoded``."""
        return "x-www-form-urlencoded" in (self.header("content-type") or "").lower()


def sidecar_path(body: Path) -> Path:
    """Where the sidecar of ``body`` lives."""
    return body.with_name(body.name + SIDECAR_SUFFIX)


def parse_timestamp_value(value: Any) -> datetime | None:
    """An ISO-8601 string or epoch seconds (number or numeric string) as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            text = value.strip()
            try:
                return datetime.fromtimestamp(float(text), UTC)
            except ValueError:
                parsed = datetime.fromisoformat(text)
                if parsed.tzinfo is None:
                    return parsed.replace(tzinfo=UTC)
                return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _headers(value: Any, problems: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    pairs: list[Any]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = value
    else:
        problems.append("headers is neither an object nor a list of pairs")
        return headers
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str):
            name, header_value = pair
            if isinstance(header_value, list):  # {"name": ["v1", "v2"]}
                header_value = header_value[-1] if header_value else ""
            headers[name.strip().lower()] = str(header_value)
        else:
            problems.append(f"ignored header entry {pair!r:.80}")
    return headers


def parse_sidecar(data: bytes) -> Sidecar:
    """Parse sidecar bytes; never raises."""
    problems: list[str] = []
    try:
        document = jsonio.loads(data)
    except jsonio.DECODE_ERRORS as exc:
        return Sidecar(problems=(f"sidecar is not JSON: {exc}",))
    if not isinstance(document, dict):
        return Sidecar(problems=("sidecar is not a JSON object",))

    method = document.get("method")
    if method is not None and not isinstance(method, str):
        problems.append("method is not a string")
        method = None

    path = document.get("path")
    query: dict[str, str] = {}
    if isinstance(path, str):
        query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    elif path is not None:
        problems.append("path is not a string")
        path = None

    headers = _headers(document["headers"], problems) if document.get("headers") is not None else {}

    received_at = None
    if document.get("received_at") is not None:
        received_at = parse_timestamp_value(document["received_at"])
        if received_at is None:
            problems.append(f"received_at {document['received_at']!r:.60} is not a time")

    return Sidecar(
        method=method.upper() if method else None,
        path=path,
        query=query,
        headers=headers,
        received_at=received_at,
        problems=tuple(problems),
    )


def read_sidecar(body: Path) -> Sidecar | None:
    """The sidecar of ``body``, or ``None`` when it has none."""
    path = sidecar_path(body)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return parse_sidecar(data)
