"""The decoder chain: every body shape and encoding is recognised by content, not file name."""

from __future__ import annotations

import base64
import gzip
import io
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loaders.decode import Broken, FileRejected, Segment, decode_file, parse_sent_at
from loaders.reasons import Reason
from loaders.sidecar import Sidecar, parse_sidecar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"

EVENT = {"event": "$pageview", "distinct_id": "user-1", "timestamp": "2024-05-01T12:00:00Z"}
BATCH = {
    "api_key": "phc_key",
    "sent_at": "2024-05-01T12:00:05Z",
    "batch": [EVENT, {**EVENT, "event": "second"}],
}


def decode(
    tmp_path: Path, data: bytes, *, name: str = "body", sidecar: dict[str, Any] | None = None
) -> list[Segment]:
    path = tmp_path / name
    path.write_bytes(data)
    parsed = parse_sidecar(orjson.dumps(sidecar)) if sidecar is not None else None
    return list(decode_file(path, parsed))


def items(segments: list[Segment]) -> list[Any]:
    return [item for segment in segments for item in segment.items]


def rejected(tmp_path: Path, data: bytes, **kwargs: Any) -> Reason:
    with pytest.raises(FileRejected) as caught:
        decode(tmp_path, data, **kwargs)
    return caught.value.reason


# --- shapes ----------------------------------------------------------------------------------


def test_batch_body_gives_key_sent_at_and_events(tmp_path: Path) -> None:
    [segment] = decode(tmp_path, orjson.dumps(BATCH))
    assert segment.context.api_key == "phc_key"
    assert segment.context.sent_at == datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)
    assert [e["event"] for e in segment.items] == ["$pageview", "second"]


def test_token_is_accepted_instead_of_api_key(tmp_path: Path) -> None:
    body = {"token": "phc_key", "batch": [EVENT]}
    [segment] = decode(tmp_path, orjson.dumps(body))
    assert segment.context.api_key == "phc_key"


def test_single_event_object(tmp_path: Path) -> None:
    assert items(decode(tmp_path, orjson.dumps(EVENT))) == [EVENT]


def test_json_list_of_events(tmp_path: Path) -> None:
    assert items(decode(tmp_path, orjson.dumps([EVENT, EVENT]))) == [EVENT, EVENT]


def test_pretty_printed_json_is_one_document(tmp_path: Path) -> None:
    pretty = orjson.dumps(BATCH, option=orjson.OPT_INDENT_2)
    assert len(items(decode(tmp_path, pretty))) == 2


def test_v1_created_at_is_sent_at_and_bearer_header_gives_the_key(tmp_path: Path) -> None:
    body = (FIXTURES / "v1_analytics.json").read_bytes()
    meta = orjson.loads((FIXTURES / "v1_analytics.json.meta.json").read_bytes())
    [segment] = decode(tmp_path, body, sidecar=meta)
    assert segment.context.api_key == "phc_demo_production_key"
    assert segment.context.sent_at == datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)


def test_body_key_wins_over_bearer_header(tmp_path: Path) -> None:
    meta = {"headers": {"Authorization": "Bearer phc_other"}}
    [segment] = decode(tmp_path, orjson.dumps(BATCH), sidecar=meta)
    assert segment.context.api_key == "phc_key"


def test_ndjson_rows_stream_with_broken_lines_marked(tmp_path: Path) -> None:
    lines = [orjson.dumps(EVENT), b"{not json", b"", orjson.dumps({**EVENT, "event": "third"})]
    result = items(decode(tmp_path, b"\n".join(lines) + b"\n", name="export.txt"))
    assert result[0] == EVENT
    assert isinstance(result[1], Broken) and result[1].reason == Reason.INVALID_JSON
    assert result[2]["event"] == "third"


def test_ndjson_with_a_broken_first_line_keeps_the_good_lines(tmp_path: Path) -> None:
    data = b'{"event": broken}\n' + orjson.dumps(EVENT) + b"\n" + orjson.dumps(EVENT)
    result = items(decode(tmp_path, data))
    assert isinstance(result[0], Broken)
    assert result[1:] == [EVENT, EVENT]


def test_ndjson_line_may_be_a_batch_body(tmp_path: Path) -> None:
    data = orjson.dumps(BATCH) + b"\n" + orjson.dumps(EVENT) + b"\n"
    segments = decode(tmp_path, data)
    assert segments[0].context.api_key == "phc_key"
    assert len(items(segments)) == 3


def test_ndjson_line_that_is_not_utf8_is_broken_not_the_file(tmp_path: Path) -> None:
    data = orjson.dumps(EVENT) + b'\n{"event": "\xff"}\n' + orjson.dumps(EVENT)
    result = items(decode(tmp_path, data))
    assert isinstance(result[1], Broken) and result[1].reason == Reason.NOT_UTF8
    assert result[2] == EVENT


def test_batch_export_fixture_is_ndjson(tmp_path: Path) -> None:
    result = items(decode(tmp_path, (FIXTURES / "batch_export.jsonl").read_bytes()))
    assert [row["team_id"] for row in result] == [1, 2]


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    assert items(decode(tmp_path, b"\xef\xbb\xbf" + orjson.dumps(EVENT))) == [EVENT]


def test_repeated_keys_last_one_wins(tmp_path: Path) -> None:
    data = b'{"event": "first", "event": "last", "distinct_id": "d"}'
    assert items(decode(tmp_path, data))[0]["event"] == "last"


def test_nan_and_lone_surrogates_from_python_clients_are_readable(tmp_path: Path) -> None:
    data = b'{"event": "e", "distinct_id": "d", "properties": {"x": NaN, "s": "a\\ud800b"}}'
    [event] = items(decode(tmp_path, data))
    assert event["properties"] == {"x": None, "s": "a\ufffdb"}


# --- encodings -------------------------------------------------------------------------------


def test_gzip_is_recognised_without_a_header_or_suffix(tmp_path: Path) -> None:
    assert len(items(decode(tmp_path, gzip.compress(orjson.dumps(BATCH)), name="body.json"))) == 2


def test_gzipped_ndjson(tmp_path: Path) -> None:
    data = gzip.compress(orjson.dumps(EVENT) + b"\n" + orjson.dumps(EVENT) + b"\n")
    assert items(decode(tmp_path, data, name="rows.jsonl.gz")) == [EVENT, EVENT]


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    data = gzip.compress(orjson.dumps(EVENT) + b"\n") + gzip.compress(orjson.dumps(EVENT) + b"\n")
    assert items(decode(tmp_path, data)) == [EVENT, EVENT]


def test_zlib_deflate_is_recognised(tmp_path: Path) -> None:
    assert len(items(decode(tmp_path, zlib.compress(orjson.dumps(BATCH))))) == 2


def test_raw_deflate_needs_the_declared_encoding(tmp_path: Path) -> None:
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(orjson.dumps(BATCH)) + compressor.flush()
    meta = {"headers": {"Content-Encoding": "deflate"}}
    assert len(items(decode(tmp_path, data, sidecar=meta))) == 2


def test_base64_body(tmp_path: Path) -> None:
    assert len(items(decode(tmp_path, base64.b64encode(orjson.dumps(BATCH))))) == 2


def test_base64_of_gzip_body(tmp_path: Path) -> None:
    data = base64.b64encode(gzip.compress(orjson.dumps(BATCH)))
    assert len(items(decode(tmp_path, data))) == 2


def test_form_encoded_base64_body_from_posthog_js(tmp_path: Path) -> None:
    payload = base64.b64encode(orjson.dumps([EVENT, EVENT])).decode()
    data = f"data={quote(payload, safe='')}&compression=base64".encode()
    meta = {"path": "/e/?compression=base64&ver=1.160.0&_=1714564805000"}
    [segment] = decode(tmp_path, data, sidecar=meta)
    assert len(segment.items) == 2
    assert segment.context.sent_at == datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)


def test_form_encoded_base64_with_plus_turned_to_space(tmp_path: Path) -> None:
    # '+' in unescaped base64 becomes ' ' under form decoding; the decoder puts it back
    event = {**EVENT, "properties": {"x": "~~~>>>???"}}
    payload = base64.b64encode(orjson.dumps([event])).decode()
    assert "+" in payload or "/" in payload
    assert items(decode(tmp_path, f"data={payload}".encode())) == [event]


def test_form_encoded_json_body(tmp_path: Path) -> None:
    data = ("data=" + quote(orjson.dumps(EVENT).decode(), safe="")).encode()
    assert items(decode(tmp_path, data)) == [EVENT]


def test_compression_query_gzip_js(tmp_path: Path) -> None:
    meta = {"path": "/e/?compression=gzip-js&ver=1.160.0", "headers": {"Content-Type": "text/plain"}}
    assert len(items(decode(tmp_path, gzip.compress(orjson.dumps(BATCH)), sidecar=meta))) == 2


def test_parquet_export(tmp_path: Path) -> None:
    table = pa.table(
        {
            "uuid": ["0190f5a1-0000-7000-8000-0000000000d1"],
            "event": ["$pageview"],
            "distinct_id": ["user-1"],
            "properties": ['{"a": 1}'],
            "team_id": [1],
            "timestamp": pa.array([datetime(2024, 5, 1, 12)], type=pa.timestamp("us")),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    [row] = items(decode(tmp_path, sink.getvalue(), name="export.bin"))
    assert row["event"] == "$pageview" and row["team_id"] == 1


# --- files that cannot be decoded ------------------------------------------------------------


def test_empty_and_blank_files(tmp_path: Path) -> None:
    assert rejected(tmp_path, b"") == Reason.EMPTY_FILE
    assert rejected(tmp_path, b"  \n\t\n") == Reason.EMPTY_FILE


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(orjson.dumps(BATCH) * 50)
    assert rejected(tmp_path, data[: len(data) // 2]) == Reason.TRUNCATED_GZIP


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(orjson.dumps(BATCH)))
    data[-8] ^= 0xFF  # break the CRC
    assert rejected(tmp_path, bytes(data)) == Reason.CORRUPT_COMPRESSION


def test_invalid_json(tmp_path: Path) -> None:
    assert rejected(tmp_path, b'{"event": "x", ') == Reason.INVALID_JSON
    assert rejected(tmp_path, b"hello world") == Reason.INVALID_JSON


def test_not_utf8(tmp_path: Path) -> None:
    assert rejected(tmp_path, b'{"event": "caf\xe9"}') == Reason.NOT_UTF8
    assert rejected(tmp_path, "not json at all".encode("utf-16")) == Reason.NOT_UTF8


def test_batch_that_is_not_a_list(tmp_path: Path) -> None:
    assert rejected(tmp_path, b'{"api_key": "k", "batch": "nope"}') == Reason.WRONG_TYPE


def test_scalar_body(tmp_path: Path) -> None:
    assert rejected(tmp_path, b"42") == Reason.NOT_AN_OBJECT


def test_broken_parquet(tmp_path: Path) -> None:
    assert rejected(tmp_path, b"PAR1 this is not really parquet PAR1") == Reason.INVALID_PARQUET


# --- sidecars and sent_at --------------------------------------------------------------------


def test_sidecar_headers_as_pairs_or_object_and_epoch_received_at() -> None:
    pairs = parse_sidecar(b'{"headers": [["content-ENCODING", "gzip"]], "received_at": 1714564800}')
    mapping = parse_sidecar(b'{"headers": {"Content-Encoding": "gzip"}, "received_at": "1714564800.5"}')
    assert pairs.header("Content-Encoding") == mapping.header("content-encoding") == "gzip"
    assert pairs.received_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert mapping.received_at == datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)


def test_sidecar_that_is_not_json_is_ignored_with_a_problem() -> None:
    sidecar = parse_sidecar(b"not json")
    assert sidecar == Sidecar(problems=sidecar.problems) and sidecar.problems


def test_sent_at_is_iso_or_epoch_milliseconds() -> None:
    assert parse_sent_at("2024-05-01T12:00:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_sent_at("1714564800000") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_sent_at(1714564800000) == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_sent_at("yesterday") is None
