"""Reason codes for quarantined events and files.

A code is stable text: it lands in ``quarantine/events/*.parquet`` (column ``reason``), in the
manifest and in :class:`loaders.land.LandingReport`, and audits and dashboards group by it.  Add
codes, never rename them.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an event or a whole file was quarantined."""

    # --- event level (one row of a file; its neighbours still land) ---------------------------
    NOT_AN_OBJECT = "not_an_object"
    """The event is a JSON value other than an object (a string, a number, a list...)."""
    MISSING_EVENT = "missing_event"
    """No ``event`` name, or an empty one."""
    MISSING_DISTINCT_ID = "missing_distinct_id"
    """No ``distinct_id`` at the top level or in ``properties``, or an empty one."""
    INVALID_TIMESTAMP = "invalid_timestamp"
    """``timestamp`` is present but is not an ISO-8601 date-time."""
    UNKNOWN_PROJECT = "unknown_project"
    """No api key / token / Bearer header / project id, or one that projects.yml does not know."""
    WRONG_TYPE = "wrong_type"
    """A field of the wrong JSON type (``properties`` not an object, ``event`` not a string,
    ``uuid`` not a UUID...)."""
    OVERSIZED = "oversized"
    """An event larger than 1 MiB or nested deeper than 64 levels; a file whose decoded body is
    larger than the in-memory limit."""

    # --- file level (the whole file; nothing of it lands) -------------------------------------
    EMPTY_FILE = "empty_file"
    """Zero bytes, or only white space after decoding."""
    TRUNCATED_GZIP = "truncated_gzip"
    """A gzip stream that ends early (an upload cut short)."""
    CORRUPT_COMPRESSION = "corrupt_compression"
    """A gzip / zlib / deflate / base64 layer that does not decode (bad CRC, bad data)."""
    INVALID_JSON = "invalid_json"
    """Not JSON, NDJSON or Parquet; also an NDJSON line that does not parse (event level)."""
    NOT_UTF8 = "not_utf8"
    """Bytes that are not UTF-8 (file level for a document, event level for an NDJSON line)."""
    INVALID_PARQUET = "invalid_parquet"
    """A file with Parquet magic bytes that pyarrow cannot read."""
    INTERNAL_ERROR = "internal_error"
    """The loader failed on this file (a bug). The file stays in the inbox and is retried on
    the next run; the traceback is in ``detail``."""
