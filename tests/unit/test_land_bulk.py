"""The bulk NDJSON path (:mod:`loaders.bulk`, DuckDB) lands exactly what the per-event path lands.

Every test lands the same inbox twice — once with the bulk path forced on for any size, once
with it off (``GW_LAND_BULK=0``) — and compares the lake row for row, the quarantine row for
row, the manifests and the reports.  The inputs mix ordinary export rows with the awkward ones
(missing uuids, numeric distinct ids, non-string group keys, repeated keys, bad lines, odd
timestamps and numbers...), which the bulk path must either handle identically or hand back to
the per-event code.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import orjson
import pytest
import yaml

from gw.config import DEMO_PROJECTS_YAML, ProjectsConfig, WarehousePaths, warehouse_paths
from loaders import bulk, land_inbox

PROJECTS = ProjectsConfig.model_validate(yaml.safe_load(DEMO_PROJECTS_YAML))
NOW = datetime(2024, 5, 2, tzinfo=UTC)
RECEIVED = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC).timestamp()
FALLBACK = "landing event by event"


def export_row(i: int, **fields: Any) -> dict[str, Any]:
    """An ordinary PostHog batch-export row."""
    row: dict[str, Any] = {
        "uuid": f"0190f5a1-0000-7000-8000-{i:012d}",
        "event": "$pageview",
        "properties": {"$current_url": f"https://example.com/{i}", "$groups": {"company": f"c{i % 3}"}},
        "distinct_id": f"user-{i % 7}",
        "timestamp": f"2024-05-01 10:{i % 60:02d}:00.{i:06d}+00:00",
        "team_id": 1 + i % 2,
        "elements_chain": "",
    }
    row.update(fields)
    return row


def lines(rows: list[Any]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def snapshot(paths: WarehousePaths) -> dict[str, Any]:
    def rows(glob: str, order: str) -> list[tuple[Any, ...]]:
        if not list(paths.home.glob(glob)):
            return []
        return duckdb.sql(
            f"select * from read_parquet('{paths.home}/{glob}', hive_partitioning = true) order by {order}"
        ).fetchall()

    manifests = sorted(
        orjson.dumps(orjson.loads(p.read_bytes()), option=orjson.OPT_SORT_KEYS)
        for p in (paths.lake / "_manifest").glob("*.json")
    )
    partitions = sorted(str(p.relative_to(paths.lake)) for p in (paths.lake / "events").rglob("*.parquet"))
    return {
        "events": rows("lake/events/**/*.parquet", "source_name, source_row"),
        "quarantine": rows("quarantine/events/*.parquet", "source_name, source_row nulls first, reason"),
        "manifests": manifests,
        "partitions": partitions,
    }


def land_both(
    tmp_path: Path,
    files: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    *,
    sidecars: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Land ``files`` with and without the bulk path; returns the (equal) result and the names
    of the files the bulk path handed back whole."""
    monkeypatch.setattr(bulk, "BULK_MIN_BYTES", 0)
    results = {}
    fell_back: list[str] = []
    for mode in ("1", "0"):
        monkeypatch.setenv("GW_LAND_BULK", mode)
        paths = warehouse_paths(tmp_path / f"bulk-{mode}").ensure()
        for name, data in files.items():
            path = paths.inbox / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (RECEIVED, RECEIVED))
            if sidecars and name in sidecars:
                path.with_name(path.name + ".meta.json").write_bytes(orjson.dumps(sidecars[name]))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="loaders.land"):
            report = land_inbox(paths, PROJECTS, now=NOW)
        if mode == "1":
            fell_back = sorted(
                r.getMessage().split(":")[0] for r in caplog.records if FALLBACK in r.getMessage()
            )
        results[mode] = (report.to_dict(), snapshot(paths))
    bulk_result, event_result = results["1"], results["0"]
    assert bulk_result[0] == event_result[0]
    for key in event_result[1]:
        assert bulk_result[1][key] == event_result[1][key], key
    return event_result[1], fell_back


# --- ordinary exports stay in bulk -------------------------------------------------------------


def test_ordinary_gzip_and_plain_exports_land_identically_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [export_row(i) for i in range(300)]
    rows[5]["set"] = {"email": "five@example.com"}
    rows[6]["set_once"] = {"first": "six"}
    rows[7]["set"] = None
    files = {
        "a.jsonl.gz": gzip.compress(lines(rows), mtime=0),
        "b.jsonl": lines(rows[:50]).replace(b"\n", b"\r\n"),  # CRLF
        "c/d.ndjson.gz": gzip.compress(lines(rows[:10]), mtime=0)
        + gzip.compress(lines(rows[10:20]), mtime=0),
    }
    result, fell_back = land_both(tmp_path, files, monkeypatch, caplog)
    assert fell_back == []
    assert len(result["events"]) == 370 and result["quarantine"] == []


# --- awkward rows: handled in bulk or re-done by the per-event code, same result ----------------

AWKWARD: list[Any] = [
    # uuids
    export_row(1, uuid=None),
    {k: v for k, v in export_row(2).items() if k != "uuid"},
    export_row(3, uuid="0190F5A1-0000-7000-8000-0000000000AB"),
    export_row(4, uuid="{0190f5a1-0000-7000-8000-0000000000ac}"),
    export_row(5, uuid="0190f5a100007000800000000000000ad"),
    export_row(6, uuid="not-a-uuid"),
    export_row(7, uuid=""),
    export_row(8, uuid=12),
    # distinct ids
    export_row(10, distinct_id=12345),
    export_row(11, distinct_id=-7),
    export_row(12, distinct_id=5.0),
    export_row(13, distinct_id=2.5),
    export_row(14, distinct_id=2**70),
    export_row(15, distinct_id=True),
    export_row(16, distinct_id=""),
    export_row(17, distinct_id=None, properties={"distinct_id": "from-props"}),
    export_row(18, distinct_id="x" * 250),
    export_row(19, distinct_id="é" * 150),
    export_row(20, distinct_id=["a"]),
    export_row(21, distinct_id='quote"d'),
    # events
    export_row(30, event=""),
    export_row(31, event=None),
    export_row(32, event=7),
    export_row(33, event="tab\there"),
    export_row(34, event="café ✓ 🦔"),
    # groups
    export_row(40, properties={"$groups": {"company": 5, "team": 5.0, "r": 2.5, "f": True, "n": None}}),
    export_row(41, properties={"$groups": {"company": {"nested": 1}}}),
    export_row(42, properties={"$groups": []}),
    export_row(43, properties={"$groups": "acme"}),
    export_row(44, properties={"$groups": {}}),
    export_row(45, **{"$groups": {"company": "top"}}),
    export_row(46, **{"$groups": None}),
    # $groupidentify
    export_row(
        50,
        event="$groupidentify",
        properties={"$group_type": "company", "$group_key": "acme", "$group_set": {"a": 1}},
    ),
    export_row(51, event="$groupidentify", properties={"$group_type": "team", "$group_key": 42}),
    export_row(52, event="$groupidentify", properties={"$group_type": "team", "$group_key": 4.0}),
    export_row(
        53, event="$groupidentify", properties={"$group_type": 3, "$group_key": True, "$group_set": "x"}
    ),
    export_row(54, event="$groupidentify", properties={"$group_key": {"k": 1}}),
    export_row(55, event="$groupidentify", properties={"$group_key": None}),
    # person properties
    export_row(60, properties={"$set": {"a": 1}, "$set_once": {"b": 2}}),
    export_row(61, **{"$set": {"a": "top"}}, properties={"$set": {"a": "inner", "b": "inner"}}),
    export_row(62, **{"$set_once": {"x": 1}}),
    export_row(63, set='{"email": "text@example.com"}', set_once=""),
    export_row(64, set={"nested": {"deep": 1}}),
    export_row(65, team_id=None, project_id=1, set={"dropped": True}),
    export_row(66, properties={"$set": "not an object"}, set={"export": 1}),
    # projects
    export_row(70, team_id="2"),
    export_row(71, team_id=99),
    export_row(72, team_id=None),
    export_row(73, team_id=None, project_id="1"),
    export_row(74, team_id=1.0),
    export_row(75, api_key="phc_demo_staging_key"),
    export_row(76, token="phc_nope"),
    export_row(77, properties={"token": "phc_demo_staging_key"}),
    export_row(78, api_key=" phc_demo_production_key "),
    export_row(79, api_key=5),
    # timestamps
    export_row(80, timestamp="2024-05-01T12:00:00Z"),
    export_row(81, timestamp="2024-05-01T12:00:00"),
    export_row(82, timestamp="2024-05-01 12:00:00.1"),
    export_row(83, timestamp="2024-05-01T12:00:00.123456789Z"),
    export_row(84, timestamp="2024-05-01T12:00:00.9999999-05:30"),
    export_row(85, timestamp="2024-05-01T23:30:00+23:59"),
    export_row(86, timestamp="2024-05-01T12:00:00+05:60"),
    export_row(87, timestamp="2024-05-01T24:00:00"),
    export_row(88, timestamp="2024-02-30T00:00:00"),
    export_row(89, timestamp="2024-02-29T00:00:00"),
    export_row(90, timestamp="2023-02-29T00:00:00"),
    export_row(91, timestamp="2030-01-01T00:00:00Z"),  # far future: clamped to received_at
    export_row(92, timestamp="1650-01-01T00:00:00Z"),
    export_row(93, timestamp="0001-01-01T00:00:00+01:00"),
    export_row(94, timestamp="2024-05-01"),
    export_row(95, timestamp="2024-05-01T12:00"),
    export_row(96, timestamp="yesterday"),
    export_row(97, timestamp=1714564800),
    export_row(98, timestamp=""),
    export_row(99, timestamp=None, offset=5000),
    export_row(100, timestamp="2024-05-01t12:00:00"),
    export_row(101, timestamp="2024-05-01T12:00:00.5+0530"),
    export_row(102, timestamp="2024-05-01 12:00:00.000000-00:00"),
    export_row(103, sent_at="2024-05-01T12:00:05Z"),
    export_row(105, timestamp="2024-05-01T12:00:00+24:00"),
    export_row(106, timestamp="2024-05-01T12:60:00"),
    export_row(107, timestamp="2024-05-01T12:00:60"),
    export_row(108, timestamp="1699-12-31T23:59:59Z"),
    export_row(109, timestamp="2251-01-01T00:00:00Z"),
    export_row(104, sent_at=None),
    # properties and their text
    export_row(110, properties='{"as": "json text"}'),
    export_row(111, properties=[1, 2]),
    export_row(112, properties=None),
    export_row(113, properties={}),
    export_row(114, properties={"f": 1e16, "g": 1.5e-6, "h": 1e21, "i": 1e-7, "j": 12345678901234567.0}),
    export_row(115, properties={"big": 2**70, "neg": -(2**65), "zero": -0.0, "one": 1.0, "half": 0.5}),
    export_row(
        116, properties={"esc": 'quote " backslash \\ newline \n tab \t ctl \u001f \u0001 nul \u0000'}
    ),
    export_row(117, properties={"uni": "café \u2028 \ufeff 🦔", "k\u00e9y": 1}),
    export_row(118, properties={"list": [[1, [2, [3]]], {"in": "list"}]}),
    export_row(119, properties={"nested": {"a": {"b": 1}}}),
    export_row(120, properties={"$set": {"addr": {"city": "x"}}}),
    export_row(121, properties={"deep": json.loads("[" * 70 + "]" * 70)}),
    export_row(122, properties={"blob": "x" * (1024 * 1024)}),
    export_row(123, properties={"$groups": {"company": "c"}, "t": "0.000001", "s": "e10 E5 1e999"}),
    export_row(124, properties={"braces": "{inside} [string]", "$groups": {"company": "{c}"}}),
    export_row(125, properties={"$ignore_sent_at": True}),
]

#: Lines written as raw bytes: repeated keys, numbers json.dumps cannot write, bad JSON.
AWKWARD_RAW: list[bytes] = [
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c02","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"plan":"free","plan":"pro"}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c03","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"$groups":{"company":"a","company":"b"}}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c04","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"$set":{"x":1,"x":2}},"set":{"y":1,"y":2}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c05","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"n":{"a":1,"a":2}}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c06","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"a":1e999,"b":1E400,"c":-0,"d":1.50,"e":1E2}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c07","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"s":"\\ud83e\\udd94 \\u00e9 \\/ \\u001F"}}',
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c08","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"big":' + b"1" * 400 + b".5}}",
    # a key the loader never reads, repeated: only the per-event uuid5 would see it, and uuid is set
    b'{"uuid":"0190f5a1-0000-7000-8000-000000000c09","event":"e","distinct_id":"d","timestamp":'
    b'"2024-05-01T12:00:00Z","team_id":1,"properties":{"k":1}, "x": 1, "x": 2}',
    b"   ",
    b"",
    b'{"uuid": "0190f5a1-0000-7000-8000-000000000c0a" , "event" : "spaced" , "distinct_id" : "d" ,'
    b' "timestamp" : "2024-05-01T12:00:00Z" , "team_id" : 1 , "properties" : { "a" : [ 1 , 2 ] } }',
]


def test_awkward_rows_land_exactly_as_event_by_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    body: list[Any] = []
    for i, row in enumerate(AWKWARD + AWKWARD_RAW):
        body.append(export_row(1000 + i))  # an ordinary neighbour before each
        body.append(row)
    result, fell_back = land_both(
        tmp_path, {"awkward.jsonl.gz": gzip.compress(lines(body), mtime=0)}, monkeypatch, caplog
    )
    assert fell_back == []  # every awkward row was re-done alone; the file stayed in bulk
    assert result["events"] and result["quarantine"]
    reasons = {row[3] for row in result["quarantine"]}
    assert {
        "wrong_type",
        "missing_event",
        "missing_distinct_id",
        "invalid_timestamp",
        "unknown_project",
        "oversized",
    } <= reasons


def test_each_awkward_row_alone_in_an_otherwise_ordinary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    files = {}
    for i, row in enumerate(AWKWARD + AWKWARD_RAW):
        rows = [export_row(j) for j in range(3)]
        files[f"f{i:03d}.jsonl"] = lines([rows[0], row, rows[1], rows[2]])
    land_both(tmp_path, files, monkeypatch, caplog)


# --- whole files handed back -------------------------------------------------------------------

WHOLE_FILE_CASES: dict[str, bytes] = {
    "trailing comma": b'{"uuid": "0190f5a1-0000-7000-8000-000000000d01", "event": "e", "distinct_id": "d",'
    b' "timestamp": "2024-05-01T12:00:00Z", "team_id": 1, "properties": {"a": [1,],},}',
    "nan": b'{"uuid": "0190f5a1-0000-7000-8000-000000000d02", "event": "e", "distinct_id": "d",'
    b' "timestamp": "2024-05-01T12:00:00Z", "team_id": 1, "properties": {"a": NaN}}',
    "not json": b"{this is not json",
    "a list line": b'[{"event": "e", "distinct_id": "d", "team_id": 1}]',
    "a batch line": b'{"api_key": "phc_demo_production_key", "batch": [{"event": "e", "distinct_id": "d"}]}',
    "a null batch": b'{"event": "e", "distinct_id": "d", "team_id": 1, "batch": null}',
    "an escaped batch key": b'{"event": "e", "distinct_id": "d", "team_id": 1, "b\\u0061tch": null}',
    "not utf-8": b'{"event": "caf\xe9", "distinct_id": "d", "team_id": 1}',
    "lone surrogate": b'{"event": "\\ud800", "distinct_id": "d", "team_id": 1}',
    "a scalar line": b"42",
    "two objects on a line": b'{"event": "a", "distinct_id": "d", "team_id": 1} {"event": "b"}',
    "deep nesting": b'{"event": "e", "distinct_id": "d", "team_id": 1, "x": '
    + b"[" * 2000
    + b"]" * 2000
    + b"}",
    "a bare carriage return": b'{"event": "a", "distinct_id": "d", "team_id": 1}\r{"event": "b"}',
    "a form feed line": b"\x0c",
    "repeated event key": b'{"uuid": "0190f5a1-0000-7000-8000-000000000d05", "event": "a", "event": "b",'
    b' "distinct_id": "d", "timestamp": "2024-05-01T12:00:00Z", "team_id": 1, "properties": {}}',
    "repeated uuid key": b'{"uuid": "0190f5a1-0000-7000-8000-000000000d03", "uuid": "0190f5a1-0000-7000-8000-000000000d04",'
    b' "event": "e", "distinct_id": "d", "timestamp": "2024-05-01T12:00:00Z", "team_id": 1}',
    "an oversized line": json.dumps(export_row(9, properties={"blob": "y" * (1024 * 1024 + 10)})).encode(),
}


@pytest.mark.parametrize("case", WHOLE_FILE_CASES)
def test_files_the_bulk_path_cannot_take_land_event_by_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    rows = [export_row(i) for i in range(4)]
    data = lines([rows[0], rows[1]]) + WHOLE_FILE_CASES[case] + b"\n" + lines([rows[2], rows[3]])
    land_both(tmp_path, {"x.jsonl.gz": gzip.compress(data, mtime=0)}, monkeypatch, caplog)


def test_odd_files_and_layouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ordinary = lines([export_row(i) for i in range(5)])
    compressed = gzip.compress(ordinary * 20, mtime=0)
    files = {
        "truncated.jsonl.gz": compressed[: len(compressed) // 2],
        "corrupt.jsonl.gz": compressed[:-8] + b"\x00\x00\x00\x00" + compressed[-4:],
        "padded.jsonl.gz": compressed + b"\x00" * 64,
        "garbage-after.jsonl.gz": compressed + b"garbage",
        "nested.jsonl.gz": gzip.compress(compressed, mtime=0),
        "bom.jsonl": b"\xef\xbb\xbf" + ordinary,
        "blank-first-line.jsonl": b"\n" + ordinary,
        "single-line.jsonl": lines([export_row(1)]),
        "no-final-newline.jsonl": ordinary.rstrip(b"\n"),
        "pretty.json": json.dumps([export_row(1), export_row(2)], indent=2).encode(),
        "empty.jsonl.gz": gzip.compress(b"", mtime=0),
        "blank.jsonl": b"\n\n   \n",
        "with-sidecar.jsonl": ordinary,
        "with-bearer.jsonl": ordinary.replace(b'"team_id": ', b'"ignored": '),
    }
    sidecars = {
        "with-sidecar.jsonl": {"received_at": "2024-05-01T12:30:00Z", "path": "/export?x=1"},
        "with-bearer.jsonl": {
            "headers": {"Authorization": "Bearer phc_demo_staging_key"},
            "path": "/e/?_=1714564805000",
        },
    }
    result, fell_back = land_both(tmp_path, files, monkeypatch, caplog, sidecars=sidecars)
    assert "padded.jsonl.gz" not in fell_back and "with-sidecar.jsonl" not in fell_back
    assert {"truncated.jsonl.gz", "garbage-after.jsonl.gz"} <= set(fell_back)
    assert "nested.jsonl.gz" not in fell_back and "pretty.json" not in fell_back  # not even tried


def test_large_chunks_and_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows re-done across feeder chunks and DuckDB batches keep their place."""
    monkeypatch.setattr(bulk, "BATCH_ROWS", 7)
    monkeypatch.setattr(bulk, "_CHUNK_BYTES", 1024)
    rows: list[Any] = [export_row(i, distinct_id=i if i % 5 == 0 else f"u{i}") for i in range(200)]
    rows[77] = b"{not json either"  # a whole-file fallback in another file
    good = rows[:77] + rows[78:]
    files = {"a.jsonl.gz": gzip.compress(lines(good), mtime=0), "b.jsonl": lines(rows)}
    _, fell_back = land_both(tmp_path, files, monkeypatch, caplog)
    assert fell_back == ["b.jsonl"]


def test_worker_processes_take_the_bulk_path_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GW_LAND_WORKERS", "2")
    files = {
        f"w{i}.jsonl.gz": gzip.compress(
            lines([export_row(i * 100 + j) for j in range(50)] + [AWKWARD[i]]), mtime=0
        )
        for i in range(6)
    }
    land_both(tmp_path, files, monkeypatch, caplog)


# --- the text of properties: yyjson (DuckDB) and msgspec agree where the bulk path keeps it ----


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return "".join(
            rng.choice(["a", "é", "🦔", "\u2028", " ", "/", "<", "0", ".", "e", "E", "{", "["])
            for _ in range(rng.randrange(6))
        )
    if kind == 1:
        exponent = rng.randrange(-12, 25)
        return rng.choice([1, -1]) * rng.random() * 10.0**exponent
    if kind == 2:
        return rng.choice(
            [0, 1, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64, 10**25, rng.randrange(-(10**18), 10**18)]
        )
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return round(rng.random() * 10 ** rng.randrange(0, 8), rng.randrange(0, 8))
    if kind == 5:
        return float(rng.randrange(-1000, 1000))
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randrange(3))}


def test_random_property_values_land_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(20261123)
    rows = []
    for i in range(600):
        properties = {f"p{j}": _random_value(rng) for j in range(rng.randrange(6))}
        if rng.random() < 0.5:
            properties["$groups"] = {"company": _random_value(rng) if rng.random() < 0.2 else f"c{i}"}
        if rng.random() < 0.2:
            properties["$set"] = {"v": _random_value(rng)}
        rows.append(export_row(i, properties=properties))
    encoders = [
        json.dumps,
        lambda r: msgspec.json.encode(r).decode(),
        lambda r: json.dumps(r, ensure_ascii=False),
    ]
    body = b"".join(encoders[i % 3](row).encode() + b"\n" for i, row in enumerate(rows))
    land_both(tmp_path, {"random.jsonl.gz": gzip.compress(body, mtime=0)}, monkeypatch, caplog)


def test_the_benchmark_export_shape_stays_entirely_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from loaders.benchmark import write_ndjson

    source = tmp_path / "source"
    source.mkdir()
    write_ndjson(source, 3000, 1000, 2)
    files = {p.name: p.read_bytes() for p in source.iterdir()}
    monkeypatch.setattr(bulk, "_take", _counting_take(bulk._take))
    result, fell_back = land_both(tmp_path, files, monkeypatch, caplog)
    assert fell_back == [] and len(result["events"]) == 3000
    assert _REDONE == [0]


_REDONE: list[int] = []


def _counting_take(take: Any) -> Any:
    """Wrap :func:`loaders.bulk._take` to count rows re-done by the per-event code."""
    _REDONE.clear()
    _REDONE.append(0)

    def counting(batch: Any, first_row: int, feeder: Any, output: Any, checks: Any) -> None:
        ok, _ = checks.run(batch)
        _REDONE[0] += int((~ok).sum())
        take(batch, first_row, feeder, output, checks)

    return counting


def test_the_bulk_path_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BULK_MIN_BYTES", 0)
    monkeypatch.setenv("GW_LAND_BULK", "0")
    path = tmp_path / "x.jsonl"
    path.write_bytes(lines([export_row(1), export_row(2)]))
    assert not bulk.candidate(path, path.stat().st_size, bulk.BodyContext())
    monkeypatch.setenv("GW_LAND_BULK", "1")
    assert bulk.candidate(path, path.stat().st_size, bulk.BodyContext())
    body = tmp_path / "body.json"  # one capture body (a single JSON document) is not a candidate
    body.write_bytes(orjson.dumps({"api_key": "k", "batch": [export_row(i) for i in range(50)]}))
    assert not bulk.candidate(body, body.stat().st_size, bulk.BodyContext())
