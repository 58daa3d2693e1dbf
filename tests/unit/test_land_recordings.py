"""Real-client recordings land exactly once, with the fields the recording script sent.

``tests/fixtures/recordings/<client>/`` holds request bodies and sidecars recorded from the real
posthog (PyPI) and posthog-node (npm) SDKs by ``tools/record_fixtures/record.py``; its
``index.json`` lists the calls that were made.  No network is needed here.

The last section lands posthog-js bodies that are **hand-written** (no browser was driven) from
the wire format documented in ``/work/shared/STACK_NOTES.md`` ("Real clients"): gzip as
``text/plain`` with no ``Content-Encoding``, the unload beacon's form ``data=<base64>`` to
``/i/v0/e/?compression=base64``, and ``/i/v1/analytics/events`` with ``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import orjson
import pytest

from gw.config import Project, ProjectsConfig, WarehousePaths, warehouse_paths
from loaders import LandingReport, land_inbox
from loaders.sidecar import parse_sidecar

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
CLIENTS = ("python", "node")
PROJECT_OF = {"python": 1, "node": 2}
#: Columns that differ between two sends of the same calls (new uuids, times, file names).
VOLATILE = ("event_uuid", "timestamp", "sent_at", "received_at", "source_hash", "source_name", "loaded_at")


def index(client: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / client / "index.json").read_text())


def projects() -> ProjectsConfig:
    return ProjectsConfig(
        projects=[
            Project(id=PROJECT_OF[client], name=f"{client} recordings", api_keys=[index(client)["api_key"]])
            for client in CLIENTS
        ]
    )


def lake(paths: WarehousePaths) -> list[dict[str, Any]]:
    relation = duckdb.sql(
        f"select * from read_parquet('{paths.lake}/events/**/*.parquet', hive_partitioning=true) "
        "order by source_name, source_row"
    )
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def wire_body(client: str, name: str) -> dict[str, Any]:
    """A recorded body decoded independently of the loader (stdlib gzip + json)."""
    data = (RECORDINGS / client / name).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)


@dataclass
class Landed:
    report: LandingReport
    rows: list[dict[str, Any]]
    paths: WarehousePaths

    def of(self, client: str, scenario: str | None = None) -> list[dict[str, Any]]:
        files = {r["file"] for r in index(client)["requests"] if scenario in (None, r["scenario"])}
        return [
            row
            for row in self.rows
            if row["source_name"].split("/")[0] == client and row["source_name"].split("/")[1] in files
        ]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    paths = warehouse_paths(tmp_path_factory.mktemp("recordings") / "home").ensure()
    for client in CLIENTS:
        for request in index(client)["requests"]:
            for name in (request["file"], request["file"] + ".meta.json"):
                (paths.inbox / client).mkdir(exist_ok=True)
                shutil.copy(RECORDINGS / client / name, paths.inbox / client / name)
    report = land_inbox(paths, projects(), now=datetime(2030, 1, 1, tzinfo=UTC))
    return Landed(report, lake(paths), paths)


# --- the recordings themselves ------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_recordings_cover_every_scenario_and_stay_small(client: str) -> None:
    recorded = index(client)
    assert Counter(r["scenario"] for r in recorded["requests"]) == {
        "plain": 1,
        "gzip": 1,
        "large": 1,
        "retry": 2,  # the 503 and the resend
        "v1": 1,
    }
    assert [r["status"] for r in recorded["requests"] if r["scenario"] == "retry"] == [503, 200]
    methods = {c["method"] for c in recorded["calls"]}
    identify = {"set", "set_once"} if client == "python" else {"identify"}
    group_identify = "group_identify" if client == "python" else "groupIdentify"
    assert methods == identify | {"capture", group_identify, "alias"}
    assert sum(1 for c in recorded["calls"] if c["scenario"] == "large") == 200
    for request in recorded["requests"]:
        meta = parse_sidecar((RECORDINGS / client / (request["file"] + ".meta.json")).read_bytes())
        assert not meta.problems and meta.received_at is not None and meta.path == request["path"]
        body = (RECORDINGS / client / request["file"]).read_bytes()
        assert (body[:2] == b"\x1f\x8b") == (meta.header("content-encoding") == "gzip")
    size = sum(p.stat().st_size for p in RECORDINGS.rglob("*") if p.is_file())
    assert size < 500 * 1024


# --- landing: exactly once ------------------------------------------------------------------------


def test_every_recording_lands_with_nothing_quarantined(landed: Landed) -> None:
    bodies = [(c, r["file"]) for c in CLIENTS for r in index(c)["requests"]]
    hashes = {(RECORDINGS / c / f).read_bytes() for c, f in bodies}
    report = landed.report
    assert report.events_quarantined == {}
    assert report.files_seen == len(bodies)
    # node resends the identical bytes on a retry: the manifest recognises the content
    assert report.files_already_landed == len(bodies) - len(hashes) == 1
    assert report.files_landed == len(hashes)


@pytest.mark.parametrize("client", CLIENTS)
def test_every_sent_event_lands_exactly_once(landed: Landed, client: str) -> None:
    recorded = index(client)
    rows = landed.of(client)
    assert {row["project_id"] for row in rows} == {PROJECT_OF[client]}
    # one landed uuid per call the script made; retry copies collapse to one uuid
    uuids = Counter(row["event_uuid"] for row in rows)
    assert len(uuids) == len(recorded["calls"])
    retried = {row["event_uuid"] for row in landed.of(client, "retry")}
    assert len(retried) == 3
    assert {u for u, n in uuids.items() if n > 1} <= retried
    if client == "python":  # posthog-python returns the uuid of every call
        assert set(uuids) == {c["uuid"] for c in recorded["calls"]}
    # every landed row is the wire event at its position, and every wire event of a landed body landed
    by_position = {(row["source_name"], row["source_row"]): row for row in rows}
    landed_files = {name.split("/")[1] for name, _ in by_position}
    for request in recorded["requests"]:
        if request["file"] not in landed_files:
            continue
        for position, sent in enumerate(wire_body(client, request["file"])["batch"]):
            row = by_position.pop((f"{client}/{request['file']}", position))
            assert row["event_uuid"] == sent["uuid"]
    assert not by_position


def test_the_retry_copies_are_the_same_events(landed: Landed) -> None:
    python = landed.of("python", "retry")
    assert len(python) == 6  # python re-stamped sent_at: two different files, both landed
    first, second = python[:3], python[3:]
    assert [r["event_uuid"] for r in first] == [r["event_uuid"] for r in second]
    assert first[0]["sent_at"] < second[0]["sent_at"]
    for a, b in zip(first, second, strict=True):
        assert abs(a["timestamp"] - b["timestamp"]) < timedelta(seconds=1)
        assert {k: v for k, v in a.items() if k not in VOLATILE} == {
            k: v for k, v in b.items() if k not in VOLATILE
        }
    assert len(landed.of("node", "retry")) == 3  # identical bytes: landed once


# --- landing: the fields the script sent ----------------------------------------------------------


def _groups(groups: dict[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (groups or {}).items()}


def expected_row(client: str, call: dict[str, Any]) -> dict[str, Any]:
    """What a call should land as, by the SDK's documented behaviour.  ``distinct_id`` ``None``
    means "generated by the SDK"; ``properties`` lists properties that must be present."""
    method, args, kwargs = call["method"], call["args"], call["kwargs"]
    none: dict[str, Any] = {"groups": {}, "person_set": None, "person_set_once": None}
    none |= {"group_type": None, "group_key": None, "group_set": None, "properties": {}}
    if client == "python":
        if method in ("set", "set_once"):
            column = "person_set" if method == "set" else "person_set_once"
            return none | {
                "event": f"${method}",
                "distinct_id": kwargs["distinct_id"],
                column: kwargs["properties"],
            }
        if method == "capture":
            properties = kwargs["properties"]
            return none | {
                "event": args[0],
                "distinct_id": str(kwargs["distinct_id"]),
                "groups": _groups(kwargs["groups"]),
                "person_set": properties.get("$set"),
                "properties": properties,
            }
        if method == "group_identify":
            group_type, group_key, group_set = args
            return none | {
                "event": "$groupidentify",
                "distinct_id": kwargs.get("distinct_id"),
                "group_type": group_type,
                "group_key": str(group_key),
                "group_set": group_set,
            }
        assert method == "alias"
        return none | {
            "event": "$create_alias",
            "distinct_id": kwargs["previous_id"],
            "properties": {"alias": kwargs["distinct_id"]},
        }
    [arg] = args
    if method == "identify":
        properties = arg["properties"]
        return none | {
            "event": "$identify",
            "distinct_id": arg["distinctId"],
            "person_set": properties["$set"],
            "person_set_once": properties.get("$set_once", {}),  # node sends {} when not given
            "properties": {k: v for k, v in properties.items() if k == "$anon_distinct_id"},
        }
    if method == "capture":
        return none | {
            "event": arg["event"],
            "distinct_id": str(arg["distinctId"]),
            "groups": _groups(arg["groups"]),
            "person_set": arg["properties"].get("$set"),
            "properties": arg["properties"],
        }
    if method == "groupIdentify":
        return none | {
            "event": "$groupidentify",
            "distinct_id": arg.get("distinctId") or f"${arg['groupType']}_{arg['groupKey']}",
            "group_type": arg["groupType"],
            "group_key": str(arg["groupKey"]),
            "group_set": arg["properties"],
        }
    assert method == "alias"
    return none | {
        "event": "$create_alias",
        "distinct_id": arg["distinctId"],
        "properties": {"alias": arg["alias"]},
    }


def _as_sent(row: dict[str, Any]) -> dict[str, Any]:
    decoded = {
        k: None if row[k] is None else orjson.loads(row[k])
        for k in ("person_set", "person_set_once", "group_set")
    }
    return {
        "event": row["event"],
        "distinct_id": row["distinct_id"],
        "groups": orjson.loads(row["groups"]),
        "group_type": row["group_type"],
        "group_key": row["group_key"],
        "properties": orjson.loads(row["properties"]),
        **decoded,
    }


@pytest.mark.parametrize("client", CLIENTS)
def test_landed_fields_are_what_the_script_sent(landed: Landed, client: str) -> None:
    recorded = index(client)
    scenario_of = {r["file"]: r["scenario"] for r in recorded["requests"]}
    remaining = [
        (scenario_of[row["source_name"].split("/")[1]], _as_sent(row))
        for row in {r["event_uuid"]: r for r in landed.of(client)}.values()  # one copy per uuid
    ]
    for call in recorded["calls"]:
        expected = expected_row(client, call)
        want_properties = expected.pop("properties")
        matches = [
            (scenario, row)
            for scenario, row in remaining
            if scenario == call["scenario"]
            and row["event"] == expected["event"]
            and expected["distinct_id"] in (None, row["distinct_id"])
            and all(row["properties"].get(k) == v for k, v in want_properties.items())
            and all(row[k] == v for k, v in expected.items() if k != "distinct_id")
        ]
        assert matches, (client, call)
        remaining.remove(matches[0])
        if expected["distinct_id"] is None:  # posthog-python makes up a uuid
            assert uuid.UUID(matches[0][1]["distinct_id"])
    assert not remaining


def test_non_ascii_and_big_integers_survive(landed: Landed) -> None:
    [python] = [r for r in landed.of("python", "plain") if r["event"] == "order placed"]
    [node] = [r for r in landed.of("node", "plain") if r["event"] == "order placed"]
    assert orjson.loads(python["properties"])["big"] == 2**60 + 1
    assert (
        orjson.loads(python["properties"])["note"]
        == orjson.loads(node["properties"])["note"]
        == "caf\u00e9 \U0001f994"
    )
    assert python["distinct_id"] == node["distinct_id"] == "12345"  # node sent a JSON number


@pytest.mark.parametrize("client", CLIENTS)
def test_timestamps_are_corrected_to_within_seconds_of_received_at(landed: Landed, client: str) -> None:
    for row in landed.of(client):
        meta = parse_sidecar(
            (RECORDINGS / row["source_name"])
            .with_name(row["source_name"].split("/")[1] + ".meta.json")
            .read_bytes()
        )
        assert meta.received_at is not None
        assert row["received_at"] == meta.received_at.replace(tzinfo=None)
        # events happen before their batch is sent, and the skew rule keeps that order
        assert timedelta(seconds=-5) < row["timestamp"] - row["received_at"] <= timedelta(0)
        assert row["sent_at"] is not None


@pytest.mark.parametrize("client", CLIENTS)
def test_v1_recording_takes_the_key_from_bearer_and_sent_at_from_created_at(
    landed: Landed, client: str
) -> None:
    [request] = [r for r in index(client)["requests"] if r["scenario"] == "v1"]
    body = wire_body(client, request["file"])
    assert "api_key" not in body and "sent_at" not in body
    rows = landed.of(client, "v1")
    assert len(rows) == len(body["batch"]) == 4
    created_at = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert {row["sent_at"] for row in rows} == {created_at.astimezone(UTC).replace(tzinfo=None)}
    assert {row["project_id"] for row in rows} == {PROJECT_OF[client]}
    assert all("$lib" not in orjson.loads(row["properties"]) for row in rows)


@pytest.mark.parametrize("client", CLIENTS)
def test_gzip_and_plain_recordings_land_identically(landed: Landed, client: str) -> None:
    def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            kept = {k: v for k, v in row.items() if k not in VOLATILE}
            if row["event"] == "$groupidentify" and client == "python" and row["group_key"] == "42":
                kept["distinct_id"] = "<made up by the SDK>"
            out.append(kept)
        return out

    plain, gzipped = landed.of(client, "plain"), landed.of(client, "gzip")
    assert len(plain) == (7 if client == "python" else 6)
    assert comparable(plain) == comparable(gzipped)


# --- posthog-js: HAND-WRITTEN bodies in its documented wire shapes (no browser was driven) -------

JS_KEY = "phc_recorder_python_key"  # any configured key: project 1
JS_RECEIVED = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)
JS_SENT = datetime(2024, 5, 1, 13, 0, 5, tzinfo=UTC)  # the browser's clock runs 1 h fast


def js_events(*, v1: bool) -> list[dict[str, Any]]:
    """A posthog-js session: distinct_id (and, except on v1, token and $lib) only in properties."""

    def event(n: int, name: str, **properties: Any) -> dict[str, Any]:
        common: dict[str, Any] = {"distinct_id": "anon-7", "$session_id": "0190f5a1-s"}
        if not v1:
            common |= {"token": JS_KEY, "$lib": "web", "$lib_version": "1.290.0"}
        body: dict[str, Any] = {
            "uuid": f"0190F5A1-0000-7000-8000-00000000007{n}",
            "event": name,
            "properties": common | properties,
            "timestamp": f"2024-05-01T13:00:0{n}.000Z",
        }
        if v1:  # the v1 envelope takes distinct_id at the top level and an options object
            body |= {"distinct_id": body["properties"].pop("distinct_id"), "options": {}}
        return body

    return [
        event(1, "$pageview", **{"$current_url": "https://example.com/", "$groups": {"company": "acme"}}),
        event(
            2,
            "$identify",
            **{
                "$set": {"email": "js@example.com"},
                "$set_once": {"ref": "ad"},
                "$anon_distinct_id": "anon-7",
            },
        ),
        event(
            3,
            "$groupidentify",
            **{"$group_type": "company", "$group_key": "acme", "$group_set": {"seats": 5}},
        ),
        event(4, "clicked", **{"$groups": {"company": "acme", "project": 9}}),
    ]


def _js_inbox(paths: WarehousePaths) -> None:
    sent_ms = int(JS_SENT.timestamp() * 1000)
    received = JS_RECEIVED.isoformat()
    plain = orjson.dumps(js_events(v1=False))
    bodies: dict[str, tuple[bytes, dict[str, Any]]] = {
        # fetch / XHR: gzip with Content-Type text/plain and no Content-Encoding header
        "js/gzip-text-plain": (
            gzip.compress(plain),
            {
                "method": "POST",
                "path": f"/e/?ip=0&_={sent_ms}&ver=1.290.0&compression=gzip-js",
                "headers": {"Content-Type": "text/plain"},
                "received_at": received,
            },
        ),
        # sendBeacon on page unload: a form body data=<base64>
        "js/beacon-form": (
            b"data=" + quote(base64.b64encode(plain).decode(), safe="").encode(),
            {
                "method": "POST",
                "path": f"/i/v0/e/?compression=base64&ip=0&_={sent_ms}&ver=1.290.0&beacon=1",
                "headers": [["Content-Type", "application/x-www-form-urlencoded"]],
                "received_at": received,
            },
        ),
        # the opt-in v1 endpoint: {created_at, batch}, key in the Bearer header
        "js/v1": (
            orjson.dumps({"created_at": JS_SENT.isoformat(), "batch": js_events(v1=True)}),
            {
                "method": "POST",
                "path": "/i/v1/analytics/events",
                "headers": {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {JS_KEY}",
                    "PostHog-Sdk-Info": "posthog-js/1.290.0",
                },
                "received_at": received,
            },
        ),
    }
    for name, (body, sidecar) in bodies.items():
        path = paths.inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        path.with_name(path.name + ".meta.json").write_bytes(orjson.dumps(sidecar))


def test_hand_written_posthog_js_transports_land_the_same_session(tmp_path: Path) -> None:
    paths = warehouse_paths(tmp_path / "home").ensure()
    _js_inbox(paths)

    report = land_inbox(paths, projects(), now=datetime(2030, 1, 1, tzinfo=UTC))

    assert (report.files_landed, report.events_landed, report.events_quarantined) == (3, 12, {})
    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in lake(paths):
        by_file.setdefault(row["source_name"], []).append(row)
    assert sorted(by_file) == ["js/beacon-form", "js/gzip-text-plain", "js/v1"]
    for rows in by_file.values():
        assert [r["project_id"] for r in rows] == [1, 1, 1, 1]
        assert [r["distinct_id"] for r in rows] == ["anon-7"] * 4
        assert [r["event_uuid"][-2:] for r in rows] == ["71", "72", "73", "74"]  # lower-cased
        # 13:00:0n sent at 13:00:05 (browser clock), received 12:00:10 → 12:00:(5+n)
        assert [r["timestamp"] for r in rows] == [datetime(2024, 5, 1, 12, 0, 6 + n) for n in range(4)]
        assert [orjson.loads(r["groups"]) for r in rows] == [
            {"company": "acme"},
            {},
            {},
            {"company": "acme", "project": "9"},
        ]
        identify, group = rows[1], rows[2]
        assert orjson.loads(identify["person_set"]) == {"email": "js@example.com"}
        assert orjson.loads(identify["person_set_once"]) == {"ref": "ad"}
        assert (group["group_type"], group["group_key"], orjson.loads(group["group_set"])) == (
            "company",
            "acme",
            {"seats": 5},
        )
    comparable = [
        [{k: v for k, v in r.items() if k not in (*VOLATILE, "properties")} for r in rows]
        for rows in by_file.values()
    ]
    assert comparable[0] == comparable[1] == comparable[2]
