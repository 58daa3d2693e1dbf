"""Landing the inbox: shapes, project resolution, normalisation, quarantine, exactly-once."""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
import yaml

from gw.config import DEMO_PROJECTS_YAML, ProjectsConfig, WarehousePaths, warehouse_paths
from loaders import LandingReport, Reason, land_inbox
from loaders.lake import LakeWriteError, safe_relative

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"
PROJECTS = ProjectsConfig.model_validate(yaml.safe_load(DEMO_PROJECTS_YAML))
PROD = "phc_demo_production_key"
STAGING = "phc_demo_staging_key"
NOW = datetime(2024, 5, 2, tzinfo=UTC)
RECEIVED = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def paths(tmp_path: Path) -> WarehousePaths:
    return warehouse_paths(tmp_path / "home").ensure()


def put(
    paths: WarehousePaths,
    name: str,
    body: bytes | dict[str, Any] | list[Any],
    *,
    received_at: datetime = RECEIVED,
    sidecar: dict[str, Any] | None = None,
    inbox: Path | None = None,
) -> Path:
    """Write a capture file (mtime = ``received_at``) and optionally its sidecar."""
    path = (inbox or paths.inbox) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body if isinstance(body, bytes) else orjson.dumps(body))
    os.utime(path, (received_at.timestamp(), received_at.timestamp()))
    if sidecar is not None:
        path.with_name(path.name + ".meta.json").write_bytes(orjson.dumps(sidecar))
    return path


def land(paths: WarehousePaths, **kwargs: Any) -> LandingReport:
    return land_inbox(paths, PROJECTS, now=NOW, **kwargs)


def query(sql: str) -> list[dict[str, Any]]:
    relation = duckdb.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def events(paths: WarehousePaths) -> list[dict[str, Any]]:
    if not list((paths.lake / "events").rglob("*.parquet")):
        return []
    return query(
        f"select * from read_parquet('{paths.lake}/events/**/*.parquet', hive_partitioning=true) "
        "order by source_name, source_row"
    )


def quarantined(paths: WarehousePaths) -> list[dict[str, Any]]:
    if not list((paths.quarantine / "events").glob("*.parquet")):
        return []
    return query(
        f"select * from read_parquet('{paths.quarantine}/events/*.parquet') "
        "order by source_name, source_row nulls first"
    )


def event(name: str = "e", distinct_id: str = "d", **fields: Any) -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id, "timestamp": "2024-05-01T12:00:00Z", **fields}


def batch(*items: Any, api_key: str = PROD, sent_at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"api_key": api_key, "batch": list(items)}
    if sent_at is not None:
        body["sent_at"] = sent_at
    return body


# --- shapes from real clients ----------------------------------------------------------------


def test_python_batch_lands_with_clock_skew_groups_and_person_properties(paths: WarehousePaths) -> None:
    put(paths, "python_batch.json", (FIXTURES / "python_batch.json").read_bytes())

    report = land(paths)

    assert (report.files_landed, report.events_landed, report.events_quarantined) == (1, 3, {})
    pageview, identify, signup = events(paths)
    # sent_at 12:00:05, received 12:00:10: every timestamp moves 5 s later
    assert pageview["timestamp"] == datetime(2024, 5, 1, 12, 0, 5)
    assert pageview["sent_at"] == datetime(2024, 5, 1, 12, 0, 5)
    assert pageview["received_at"] == datetime(2024, 5, 1, 12, 0, 10)
    assert pageview["loaded_at"] == datetime(2024, 5, 2)
    assert (pageview["project_id"], str(pageview["event_date"])) == (1, "2024-05-01")
    assert orjson.loads(pageview["groups"]) == {"company": "acme"}
    assert orjson.loads(pageview["properties"])["plan"] == "pro"
    assert pageview["person_set"] is None
    assert (identify["group_type"], identify["group_key"]) == ("company", "acme")
    assert orjson.loads(identify["group_set"]) == {"name": "Acme Inc", "employees": 50}
    assert identify["groups"] == "{}"
    assert orjson.loads(signup["groups"]) == {"company": "acme", "team": "42"}
    assert orjson.loads(signup["person_set"]) == {"email": "two@example.com"}
    assert [e["source_row"] for e in (pageview, identify, signup)] == [0, 1, 2]
    assert {e["source_name"] for e in (pageview, identify, signup)} == {"python_batch.json"}


def test_js_list_takes_token_and_distinct_id_from_properties(paths: WarehousePaths) -> None:
    put(paths, "js.json", (FIXTURES / "js_batch.json").read_bytes())

    land(paths)

    first, second = events(paths)
    assert (first["project_id"], first["distinct_id"]) == (2, "anon-1")
    assert first["event_uuid"] == "0190f5a1-0000-7000-8000-0000000000a1"  # lower-cased
    assert orjson.loads(first["person_set_once"]) == {"initial_referrer": "$direct"}
    assert first["timestamp"] == datetime(2024, 5, 1, 12)  # no sent_at: as sent
    assert orjson.loads(second["groups"]) == {"project": "p-1"}


def test_v1_analytics_body_uses_bearer_header_and_created_at(paths: WarehousePaths) -> None:
    put(
        paths,
        "v1.json",
        (FIXTURES / "v1_analytics.json").read_bytes(),
        sidecar=orjson.loads((FIXTURES / "v1_analytics.json.meta.json").read_bytes()),
    )

    land(paths)

    [row] = events(paths)
    assert row["project_id"] == 1
    # created_at 12:00:10, received 12:00:11 (sidecar), timestamp 12:00:00 → 12:00:01
    assert row["timestamp"] == datetime(2024, 5, 1, 12, 0, 1)
    assert row["received_at"] == datetime(2024, 5, 1, 12, 0, 11)


def test_batch_export_rows_resolve_team_id_and_keep_timestamps(paths: WarehousePaths) -> None:
    put(paths, "export.jsonl", (FIXTURES / "batch_export.jsonl").read_bytes())

    land(paths)

    first, second = events(paths)
    assert (first["project_id"], str(first["event_date"])) == (1, "2024-04-30")
    assert first["timestamp"] == datetime(2024, 4, 30, 23, 59, 59, 123456)
    assert (second["project_id"], orjson.loads(second["properties"])) == (2, {"plan": "free"})
    assert orjson.loads(second["person_set"]) == {"email": "three@example.com"}


ENCODINGS: dict[str, tuple[Any, dict[str, Any] | None]] = {
    "plain": (lambda b: b, None),
    "gzip": (gzip.compress, None),
    "gzip-js query": (gzip.compress, {"path": "/e/?compression=gzip-js"}),
    "zlib": (zlib.compress, {"headers": {"Content-Encoding": "deflate"}}),
    "base64": (base64.b64encode, None),
    "form base64": (
        lambda b: b"data=" + base64.b64encode(b).replace(b"+", b"%2B"),
        {"path": "/e/?compression=base64"},
    ),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_lands_the_same_events(paths: WarehousePaths, encoding: str) -> None:
    encode, sidecar = ENCODINGS[encoding]
    put(paths, "body", encode((FIXTURES / "python_batch.json").read_bytes()), sidecar=sidecar)

    report = land(paths)

    assert (report.files_landed, report.events_landed) == (1, 3)
    assert [e["event"] for e in events(paths)] == ["$pageview", "$groupidentify", "signed_up"]


def test_gzipped_ndjson_export_lands_in_chunks_across_partitions(
    paths: WarehousePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loaders.decode.CHUNK_ITEMS", 3)
    monkeypatch.setattr("loaders.land.CHUNK_ITEMS", 3)
    rows = [
        {**event(f"e{i}", team_id=1 + i % 2), "timestamp": f"2024-04-0{1 + i % 3}T00:00:00Z"}
        for i in range(10)
    ]
    put(paths, "export.jsonl.gz", gzip.compress(b"\n".join(orjson.dumps(r) for r in rows)))

    report = land(paths)

    assert report.events_landed == 10
    assert [e["event"] for e in events(paths)] == [f"e{i}" for i in range(10)]
    assert len(list((paths.lake / "events").rglob("*.parquet"))) == 6  # 2 projects × 3 days


# --- project resolution ----------------------------------------------------------------------


def test_project_resolution_order_and_unknown_keys(paths: WarehousePaths) -> None:
    put(paths, "a_body_key.json", batch(event("body"), api_key=STAGING))
    put(paths, "b_event_key.json", [event("event key", api_key=PROD), event("token", token=STAGING)])
    put(
        paths, "c_bearer.json", [event("bearer")], sidecar={"headers": {"authorization": f"Bearer {STAGING}"}}
    )
    put(paths, "d_unknown.json", batch(event("unknown body key"), api_key="phc_nope"))
    put(paths, "e_missing.json", [event("no key"), event("unknown team", team_id=99)])

    report = land(paths)

    assert [(e["event"], e["project_id"]) for e in events(paths)] == [
        ("body", 2),
        ("event key", 1),
        ("token", 2),
        ("bearer", 2),
    ]
    assert report.events_quarantined == {"unknown_project": 3}
    assert {q["reason"] for q in quarantined(paths)} == {"unknown_project"}


# --- quarantine ------------------------------------------------------------------------------


def test_every_event_reason_is_quarantined_while_neighbours_land(paths: WarehousePaths) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(70):
        node["x"] = {}
        node = node["x"]
    body = batch(
        event("good-1"),
        "not an object",
        {"distinct_id": "d"},
        event(""),
        {"event": "no distinct id", "properties": {}},
        event("bad time", timestamp="yesterday at noon"),
        event(123),
        event("properties a list", properties=[1, 2]),
        event("bad uuid", uuid="not-a-uuid"),
        event("distinct id a list", distinct_id=["a"]),
        event("huge", properties={"blob": "x" * (1024 * 1024 + 1)}),
        event("deep", properties=deep),
        event("good-2"),
    )
    put(paths, "mixed.json", body)

    report = land(paths)

    assert [e["event"] for e in events(paths)] == ["good-1", "good-2"]
    assert [e["source_row"] for e in events(paths)] == [0, 12]
    assert report.events_quarantined == {
        "not_an_object": 1,
        "missing_event": 2,
        "missing_distinct_id": 1,
        "invalid_timestamp": 1,
        "wrong_type": 4,
        "oversized": 2,
    }
    rows = quarantined(paths)
    assert [q["source_row"] for q in rows] == list(range(1, 12))
    assert rows[0]["raw"] == '"not an object"'
    assert "yesterday at noon" in rows[4]["raw"]
    assert all(len(q["raw"]) <= 64 * 1024 for q in rows)
    assert all(q["quarantined_at"] == datetime(2024, 5, 2) for q in rows)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", Reason.EMPTY_FILE),
        (gzip.compress(b'{"event": "x"}' * 1000)[:40], Reason.TRUNCATED_GZIP),
        (b'{"api_key": "k", "batch": [', Reason.INVALID_JSON),
        (b'{"event": "caf\xe9", "distinct_id": "d"}', Reason.NOT_UTF8),
    ],
)
def test_bad_file_is_quarantined_whole_and_does_not_stop_the_run(
    paths: WarehousePaths, body: bytes, reason: Reason
) -> None:
    bad = put(paths, "a_bad", body)
    put(paths, "b_good.json", batch(event()))
    content = bad.read_bytes()

    report = land(paths)

    assert (report.files_seen, report.files_landed, report.files_quarantined) == (2, 1, 1)
    assert report.events_quarantined == {reason.value: 1}
    [row] = quarantined(paths)
    assert (row["source_name"], row["source_row"], row["reason"]) == ("a_bad", None, reason.value)
    [copy] = (paths.quarantine / "files").iterdir()
    assert copy.read_bytes() == content
    manifest = orjson.loads((paths.lake / "_manifest" / f"{copy.name}.json").read_bytes())
    assert (manifest["file_reason"], manifest["events_landed"]) == (reason.value, 0)
    assert not list(paths.inbox.iterdir())
    assert (paths.archive / "a_bad").read_bytes() == content


def test_a_loader_bug_leaves_the_file_in_the_inbox_for_a_retry(
    paths: WarehousePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(paths, "body.json", batch(event()))

    def explode(*args: Any, **kwargs: Any) -> int:
        raise KeyError("bug")

    monkeypatch.setattr("loaders.land.normalise_segment", explode)
    report = land(paths)
    assert report.events_quarantined == {"internal_error": 1}
    assert (paths.inbox / "body.json").exists()
    assert not list((paths.lake / "_manifest").glob("*.json"))

    monkeypatch.undo()
    assert land(paths).events_landed == 1


# --- exactly once ----------------------------------------------------------------------------


def test_rerun_and_redelivery_under_another_name_land_nothing_new(paths: WarehousePaths) -> None:
    body = (FIXTURES / "python_batch.json").read_bytes()
    put(paths, "first.json", body)
    land(paths)
    before = events(paths)

    again = land(paths)
    put(paths, "resent/under-another-name.json", body, received_at=RECEIVED + timedelta(hours=1))
    put(paths, "first.json", body)
    redelivered = land(paths)

    assert (again.files_seen, again.events_landed) == (0, 0)
    assert (redelivered.files_seen, redelivered.files_already_landed, redelivered.events_landed) == (2, 2, 0)
    assert events(paths) == before
    assert (paths.archive / "resent" / "under-another-name.json").exists()
    # the second copy named first.json does not overwrite the archived one
    assert len(list(paths.archive.glob("first.json*"))) == 2


def lake_rows(paths: WarehousePaths) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted(row.items())) for row in events(paths))


def lake_files(paths: WarehousePaths) -> list[str]:
    return sorted(str(p.relative_to(paths.lake)) for p in (paths.lake / "events").rglob("*.parquet"))


def inputs(paths: WarehousePaths) -> None:
    put(paths, "a.json", (FIXTURES / "python_batch.json").read_bytes())
    put(paths, "b.jsonl", (FIXTURES / "batch_export.jsonl").read_bytes())
    put(paths, "c.json", batch(event("x"), "bad"))


@pytest.mark.parametrize("crash_point", ["loaders.land.write_manifest", "loaders.land.archive_file"])
def test_crash_before_manifest_or_archive_then_rerun_gives_the_same_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_point: str
) -> None:
    clean = warehouse_paths(tmp_path / "clean").ensure()
    inputs(clean)
    land(clean)

    crashed = warehouse_paths(tmp_path / "crashed").ensure()
    inputs(crashed)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("power cut")

    monkeypatch.setattr(crash_point, crash)
    with pytest.raises(SystemExit):
        land(crashed)
    assert lake_files(crashed)  # Parquet of the first file was already in place
    monkeypatch.undo()
    report = land(crashed)

    assert lake_rows(crashed) == lake_rows(clean)
    assert lake_files(crashed) == lake_files(clean)
    assert sorted(p.name for p in (crashed.quarantine / "events").iterdir()) == sorted(
        p.name for p in (clean.quarantine / "events").iterdir()
    )
    assert report.files_landed + report.files_already_landed == 3
    assert not (crashed.lake / "_staging").exists() or not list((crashed.lake / "_staging").iterdir())


def test_crash_half_way_through_moving_partitions_is_undone(
    paths: WarehousePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{**event(f"e{i}", team_id=1), "timestamp": f"2024-04-0{1 + i}T00:00:00Z"} for i in range(3)]
    put(paths, "export.jsonl", b"\n".join(orjson.dumps(r) for r in rows))
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: Any, dst: Any) -> None:
        if "event_date=" in str(dst):
            calls["n"] += 1
            if calls["n"] == 2:
                raise SystemExit("crash between partitions")
        real_replace(src, dst)

    monkeypatch.setattr("loaders.lake.os.replace", flaky_replace)
    with pytest.raises(SystemExit):
        land(paths)
    monkeypatch.undo()
    assert len(lake_files(paths)) == 1  # one partition made it before the crash

    land(paths)

    assert [e["event"] for e in events(paths)] == ["e0", "e1", "e2"]
    assert len(lake_files(paths)) == 3


# --- timestamps ------------------------------------------------------------------------------


def landed_timestamps(
    paths: WarehousePaths, body: Any, sidecar: dict[str, Any] | None = None
) -> list[datetime]:
    put(paths, "body.json", body, sidecar=sidecar)
    land(paths)
    return [e["timestamp"] for e in events(paths)]


def test_clock_skew_is_corrected_with_sent_at(paths: WarehousePaths) -> None:
    # the client clock runs one hour fast; the server received the batch at 12:00:10
    body = batch(event(timestamp="2024-05-01T13:00:00Z"), sent_at="2024-05-01T13:00:05Z")
    assert landed_timestamps(paths, body) == [datetime(2024, 5, 1, 12, 0, 5)]


def test_sent_at_from_the_js_query_string_in_epoch_ms(paths: WarehousePaths) -> None:
    sent = int(datetime(2024, 5, 1, 13, 0, 5, tzinfo=UTC).timestamp() * 1000)
    body = [event(timestamp="2024-05-01T13:00:00Z", token=PROD)]
    assert landed_timestamps(paths, body, {"path": f"/e/?ver=1&_={sent}"}) == [datetime(2024, 5, 1, 12, 0, 5)]


def test_offset_without_timestamp_and_neither(paths: WarehousePaths) -> None:
    offset = {"event": "offset", "distinct_id": "d", "offset": 5000}
    bare = {"event": "bare", "distinct_id": "d"}
    assert landed_timestamps(paths, batch(offset, bare, sent_at="2024-05-01T00:00:00Z")) == [
        datetime(2024, 5, 1, 12, 0, 5),
        datetime(2024, 5, 1, 12, 0, 10),
    ]


def test_an_absurd_offset_quarantines_the_event_not_the_file(paths: WarehousePaths) -> None:
    put(paths, "body.json", batch({"event": "e", "distinct_id": "d", "offset": 10**18}, event("fine")))
    report = land(paths)
    assert (report.events_landed, report.events_quarantined) == (1, {"invalid_timestamp": 1})


def test_timestamps_without_sent_at_are_kept_naive_ones_are_utc(paths: WarehousePaths) -> None:
    body = batch(
        event(timestamp="2024-05-01T09:30:00"),
        event(timestamp="2024-05-01T11:30:00+02:00"),
        event(timestamp="2024-05-01T09:30:00.123456789Z"),
    )
    assert landed_timestamps(paths, body) == [
        datetime(2024, 5, 1, 9, 30),
        datetime(2024, 5, 1, 9, 30),
        datetime(2024, 5, 1, 9, 30, 0, 123456),
    ]


def test_ignore_sent_at_property_skips_the_correction(paths: WarehousePaths) -> None:
    body = batch(
        event(timestamp="2024-04-01T00:00:00Z", properties={"$ignore_sent_at": True}),
        sent_at="2024-05-01T12:00:00Z",
    )
    assert landed_timestamps(paths, body) == [datetime(2024, 4, 1)]


def test_more_than_23_hours_in_the_future_is_clamped_to_received_at(paths: WarehousePaths) -> None:
    body = batch(
        event("22h ahead", timestamp="2024-05-02T10:00:10Z"),
        event("24h ahead", timestamp="2024-05-02T12:00:10Z"),
        event("skewed far ahead", timestamp="2024-05-03T00:00:00Z"),
    )
    assert landed_timestamps(paths, body) == [
        datetime(2024, 5, 2, 10, 0, 10),
        datetime(2024, 5, 1, 12, 0, 10),
        datetime(2024, 5, 1, 12, 0, 10),
    ]


def test_received_at_from_sidecar_epoch_seconds_else_file_mtime(paths: WarehousePaths) -> None:
    put(paths, "a.json", batch(event("a")), sidecar={"received_at": 1714564800})
    put(paths, "b.json", batch(event("b")), received_at=datetime(2024, 5, 1, 8, tzinfo=UTC))
    land(paths)
    assert [e["received_at"] for e in events(paths)] == [datetime(2024, 5, 1, 12), datetime(2024, 5, 1, 8)]


# --- values ----------------------------------------------------------------------------------


def test_non_string_group_keys_are_stringified_and_null_means_no_group(paths: WarehousePaths) -> None:
    groups = {"company": 5, "team": 5.0, "ratio": 2.5, "flag": True, "none": None, "empty": ""}
    body = batch(
        event(properties={"$groups": groups}),
        event(
            "$groupidentify", properties={"$group_type": "company", "$group_key": 7, "$group_set": {"a": 1}}
        ),
    )
    put(paths, "body.json", body)
    land(paths)
    first, identify = events(paths)
    assert orjson.loads(first["groups"]) == {
        "company": "5",
        "team": "5",
        "ratio": "2.5",
        "flag": "true",
        "empty": "",
    }
    assert orjson.loads(first["properties"])["$groups"] == groups  # properties stay whole
    assert identify["group_key"] == "7"


def test_top_level_groups_and_set_win_over_properties(paths: WarehousePaths) -> None:
    body = batch(
        event(
            **{"$groups": {"company": "top"}, "$set": {"a": "top"}},
            properties={"$groups": {"company": "inner"}, "$set": {"a": "inner", "b": "inner"}},
        )
    )
    put(paths, "body.json", body)
    land(paths)
    [row] = events(paths)
    assert orjson.loads(row["groups"]) == {"company": "top"}
    assert orjson.loads(row["person_set"]) == {"a": "top", "b": "inner"}


def test_repeated_json_keys_last_one_wins(paths: WarehousePaths) -> None:
    raw = (
        b'{"api_key": "phc_demo_production_key", "batch": [{"event": "first", "event": "last",'
        b' "distinct_id": "d", "properties": {"plan": "free", "plan": "pro"}}]}'
    )
    put(paths, "body.json", raw)
    land(paths)
    [row] = events(paths)
    assert row["event"] == "last"
    assert orjson.loads(row["properties"]) == {"plan": "pro"}


def test_distinct_id_numbers_are_stringified_and_long_ones_cut(paths: WarehousePaths) -> None:
    body = batch(event(distinct_id=12345), event(distinct_id="x" * 300))
    put(paths, "body.json", body)
    land(paths)
    assert [e["distinct_id"] for e in events(paths)] == ["12345", "x" * 200]


def test_missing_uuid_is_deterministic_per_content_and_project(paths: WarehousePaths) -> None:
    sent = event("no uuid")
    put(paths, "a.json", batch(sent, sent_at="2024-05-01T12:00:00Z"))
    put(paths, "b.json", batch(sent, sent_at="2024-05-01T12:00:09Z"))  # a retry, re-stamped
    put(paths, "c.json", batch(sent, api_key=STAGING))
    land(paths)
    first, retry, other_project = (e["event_uuid"] for e in events(paths))
    assert first == retry != other_project
    assert len(first) == 36 and first[14] == "5"  # uuid5


# --- files and folders -----------------------------------------------------------------------


def test_sidecars_hidden_and_temp_files(paths: WarehousePaths) -> None:
    put(paths, "body.json", batch(event()), sidecar={"received_at": "2024-05-01T12:00:00Z"})
    put(paths, ".hidden.json", batch(event()))
    put(paths, "upload.json.tmp", batch(event()))
    put(paths, ".staging/inner.json", batch(event()))
    (paths.inbox / "orphan.meta.json").write_text("{}")

    report = land(paths)

    assert (report.files_seen, report.events_landed) == (1, 1)
    assert (paths.archive / "body.json").exists() and (paths.archive / "body.json.meta.json").exists()
    assert sorted(p.name for p in paths.inbox.iterdir()) == [
        ".hidden.json",
        ".staging",
        "orphan.meta.json",
        "upload.json.tmp",
    ]


def test_files_are_landed_in_order_of_relative_path(paths: WarehousePaths) -> None:
    for name in ["b/2.json", "a.json", "b/10.json", "c.json"]:
        put(paths, name, batch(event(name)))
    report = land(paths)
    assert [f["source_name"] for f in report.files] == ["a.json", "b/10.json", "b/2.json", "c.json"]


def test_names_that_try_to_escape_stay_inside_the_home(tmp_path: Path, paths: WarehousePaths) -> None:
    for hostile in ["../../etc/passwd", "/abs/path", "a/../../b", "..\\..\\win.json", "..", "a/./b\n"]:
        relative = safe_relative(hostile)
        assert not relative.is_absolute() and ".." not in relative.parts
        assert (paths.archive / relative).resolve().is_relative_to(paths.archive.resolve())

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_bytes(orjson.dumps(batch(event("secret"))))
    other_inbox = tmp_path / "elsewhere" / "inbox"
    # a legal POSIX file name that looks like a Windows path climbing out
    put(paths, "sub/x\\..\\..\\..\\evil.json", batch(event("dotted")), inbox=other_inbox)
    (other_inbox / "link.json").symlink_to(outside / "secret.json")

    report = land(paths, inbox=other_inbox)

    assert [e["event"] for e in events(paths)] == ["dotted"]
    assert (paths.archive / "sub" / "x" / "__" / "__" / "__" / "evil.json").exists()
    assert report.files_seen == 1  # the symlink is not followed
    assert (outside / "secret.json").exists()
    archived = [p for p in paths.archive.rglob("*") if p.is_file()]
    assert archived and all(p.resolve().is_relative_to(paths.home) for p in archived)


def test_projects_parquet_and_manifest_are_written(paths: WarehousePaths) -> None:
    put(paths, "body.json", batch(event(), "bad"), sidecar={"received_at": "2024-05-01T12:00:00Z"})
    land(paths)

    projects = pq.read_table(paths.lake / "projects" / "projects.parquet").to_pylist()
    assert projects == [
        {"project_id": 1, "project_name": "Production", "timezone": "Europe/Berlin"},
        {"project_id": 2, "project_name": "Staging", "timezone": "America/New_York"},
    ]
    [manifest_file] = (paths.lake / "_manifest").glob("*.json")
    manifest = orjson.loads(manifest_file.read_bytes())
    assert manifest["source_hash"] == manifest_file.stem
    assert manifest["source_name"] == "body.json"
    assert (manifest["events_landed"], manifest["events_quarantined"], manifest["file_reason"]) == (
        1,
        1,
        None,
    )
    assert manifest["received_at"] == "2024-05-01T12:00:00Z"
    assert manifest["loaded_at"] == "2024-05-02T00:00:00Z"
    assert manifest["partitions"] == [
        f"events/project_id=1/event_date=2024-05-01/{manifest_file.stem}.parquet"
    ]


def test_unwritable_lake_raises_a_clear_error(paths: WarehousePaths) -> None:
    shutil.rmtree(paths.lake)
    paths.lake.write_text("not a folder")
    put(paths, "body.json", batch(event()))
    with pytest.raises(LakeWriteError, match=str(paths.lake)):
        land(paths)


def test_report_summary_and_dict(paths: WarehousePaths) -> None:
    put(paths, "a.json", batch(event(), {"event": "x"}))
    put(paths, "b.json", b"")
    report = land(paths)
    assert report.summary().startswith(
        "2 files seen: 1 landed, 0 already landed, 1 quarantined; 1 events landed"
    )
    assert "missing_distinct_id=1" in report.summary()
    as_dict = report.to_dict()
    assert as_dict["events_quarantined"] == {"missing_distinct_id": 1, "empty_file": 1}
    assert orjson.dumps(as_dict)
