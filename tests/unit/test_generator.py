"""The seeded generator: deterministic, the right shapes, and a truth that matches its files."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gw.generator import UNKNOWN_API_KEY, GeneratedSample, GeneratorSettings, generate

SMALL = GeneratorSettings(events=1_500, groups=5, persons=20, days=4, file_events=80, seed=7)
KEYS = {"phc_demo_production_key": 1, "phc_demo_staging_key": 2}
ZONES = {1: ZoneInfo("Europe/Berlin"), 2: ZoneInfo("America/New_York")}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSample:
    return generate(tmp_path_factory.mktemp("inbox"), SMALL)


def _inbox(sample: GeneratedSample) -> Path:
    return sample.files[0].parent


def _bodies(sample: GeneratedSample) -> list[Path]:
    """Every file but the sidecars, in landing (name) order."""
    return [path for path in sample.files if not path.name.endswith(".meta.json")]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _decode(path: Path) -> tuple[str, Any]:
    """``("capture", body)`` or ``("export", [lines])``; raises on a bad file."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if path.name.endswith((".ndjson", ".jsonl.gz")):
        return "export", [json.loads(line) for line in data.splitlines()]
    return "capture", json.loads(data)


def _sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".meta.json").read_text())


def _first_copies(sample: GeneratedSample) -> dict[str, tuple[str, int, int, datetime, dict[str, Any]]]:
    """uuid → (file, row, project, corrected timestamp, event) of its first copy, read back from
    the files with PostHog's clock-skew correction."""
    found: dict[str, tuple[str, int, int, datetime, dict[str, Any]]] = {}
    for path in _bodies(sample):
        try:
            shape, content = _decode(path)
        except (EOFError, ValueError, zlib.error, gzip.BadGzipFile):
            continue
        if shape == "export":
            for row, line in enumerate(content):
                found.setdefault(
                    line["uuid"], (path.name, row, line["team_id"], _ts(line["timestamp"]), line)
                )
            continue
        project = KEYS.get(content.get("api_key") or content.get("token"))
        if project is None:
            continue
        received = _ts(_sidecar(path)["received_at"])
        sent = _ts(content["sent_at"])
        for row, event in enumerate(content["batch"]):
            if not isinstance(event, dict) or "event" not in event:
                continue
            if "distinct_id" not in event and "distinct_id" not in event["properties"]:
                continue
            try:
                corrected = received + (_ts(event["timestamp"]) - sent)
            except ValueError:
                continue
            found.setdefault(event["uuid"], (path.name, row, project, corrected, event))
    return found


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    settings = GeneratorSettings(events=600, groups=3, persons=8, days=2, file_events=40, seed=3)
    first = generate(tmp_path / "a", settings)
    second = generate(tmp_path / "b", settings)
    other = generate(tmp_path / "c", GeneratorSettings(**{**settings.__dict__, "seed": 4}))

    def contents(s: GeneratedSample) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in s.files}

    assert contents(first) == contents(second)
    assert [e.uuid for e in first.events] == [e.uuid for e in second.events]
    assert first.files[0].stat().st_mtime == second.files[0].stat().st_mtime
    assert contents(first) != contents(other)


def test_sizes_are_roughly_as_asked(sample: GeneratedSample) -> None:
    assert abs(len(sample.events) - SMALL.events) <= 0.1 * SMALL.events
    for project in (1, 2):
        events = [e for e in sample.events if e.project_id == project]
        assert len(events) > 0.3 * SMALL.events
        companies = {e.groups["company"] for e in events if e.groups.get("company")}
        assert 2 <= len(companies) <= SMALL.groups
        persons = {e.distinct_id for e in events if e.event == "$identify"}
        assert len(persons) == SMALL.persons
    captures = [p for p in _bodies(sample) if "-capture" in p.name]
    assert len(captures) >= 2 * 8  # at least eight files a project
    assert sample.end_date() == SMALL.start + timedelta(days=SMALL.days - 1)
    for event in sample.events:
        local_day = event.timestamp.astimezone(ZONES[event.project_id]).date()
        assert SMALL.start <= local_day <= sample.end_date()


def test_groups_are_inactive_on_some_days(tmp_path: Path) -> None:
    s = generate(tmp_path, GeneratorSettings(events=3_000, groups=6, persons=30, days=10, file_events=200))
    active_days: dict[str, set[object]] = {}
    for e in s.events:
        if e.project_id == 1 and e.groups.get("company"):
            active_days.setdefault(e.groups["company"], set()).add(e.timestamp.astimezone(ZONES[1]).date())
    assert len(active_days) >= 3
    assert any(len(days) < 10 for days in active_days.values())


def test_truth_is_unique_by_uuid_and_in_landing_order(sample: GeneratedSample) -> None:
    uuids = [e.uuid for e in sample.events]
    assert len(uuids) == len(set(uuids))
    order = [(e.source_name, e.source_row) for e in sample.events]
    assert order == sorted(order)
    for event in sample.events:
        assert event.timestamp.tzinfo is not None and event.timestamp.utcoffset().total_seconds() == 0


def test_truth_matches_what_the_files_say(sample: GeneratedSample) -> None:
    read_back = _first_copies(sample)
    assert set(read_back) == {e.uuid for e in sample.events}
    for truth in sample.events:
        name, row, project, corrected, event = read_back[truth.uuid]
        assert (name, row, project) == (truth.source_name, truth.source_row, truth.project_id)
        assert corrected == truth.timestamp
        assert event["event"] == truth.event
        assert event.get("distinct_id", event["properties"].get("distinct_id")) == truth.distinct_id
        assert event["properties"] == truth.properties
        assert event["properties"].get("$groups", {}) == truth.groups
        assert event.get("$set", event["properties"].get("$set")) == truth.person_set
        assert event.get("$set_once", event["properties"].get("$set_once")) == truth.person_set_once


def test_first_sightings_in_landing_order_end_with_a_sixth_type_in_project_2(sample: GeneratedSample) -> None:
    seen: dict[int, list[str]] = {1: [], 2: []}
    for event in sample.events:
        sighted = [t for t, key in event.groups.items() if key != ""]
        if event.group_type:
            sighted.append(event.group_type)
        for group_type in sighted:
            if group_type not in seen[event.project_id]:
                seen[event.project_id].append(group_type)
    assert seen[1] == ["company", "team", "project"]
    assert seen[2] == ["company", "team", "project", "workspace", "region", "channel"]
    # each new type arrives on its own: never two unseen types in one event
    for project in (1, 2):
        known: set[str] = set()
        for event in (e for e in sample.events if e.project_id == project):
            new = [t for t, key in event.groups.items() if key != "" and t not in known]
            assert len(new) <= 1
            known.update(new)
            if event.group_type:
                known.add(event.group_type)


def test_some_events_have_an_empty_group_key(sample: GeneratedSample) -> None:
    assert sum(1 for e in sample.events if e.groups.get("company") == "") >= 2


def test_groupidentify_has_no_groups_and_a_late_older_update_exists(sample: GeneratedSample) -> None:
    identifies = [e for e in sample.events if e.event == "$groupidentify"]
    assert identifies and all(e.groups == {} and e.group_type and e.group_key for e in identifies)
    late = []
    for position, older in enumerate(identifies):
        group = (older.project_id, older.group_type, older.group_key)
        earlier_newer = [
            e
            for e in identifies[:position]
            if (e.project_id, e.group_type, e.group_key) == group and e.timestamp > older.timestamp
        ]
        if not earlier_newer:
            continue
        later_in_time = [
            e
            for e in identifies
            if (e.project_id, e.group_type, e.group_key) == group and e.timestamp > older.timestamp
        ]
        shared = set(older.group_set or {}) & set().union(*(e.group_set or {} for e in earlier_newer))
        untouched = set(older.group_set or {}) - set().union(*(e.group_set or {} for e in later_in_time))
        if shared and untouched:
            late.append(older)
    assert len(late) == 1
    assert late[0].source_name > max(e.source_name for e in identifies if e is not late[0])


def test_identify_links_anonymous_ids_to_users(sample: GeneratedSample) -> None:
    identifies = [e for e in sample.events if e.event == "$identify"]
    assert identifies
    anonymous = {e.distinct_id for e in sample.events if e.distinct_id.startswith("anon-")}
    for event in identifies:
        assert event.properties["$anon_distinct_id"] in anonymous
        assert "@" in event.distinct_id
        assert event.person_set and event.person_set_once
    set_top_level = set_in_properties = 0
    for _, _, _, _, wire in _first_copies(sample).values():
        set_top_level += "$set" in wire
        set_in_properties += "$set" in wire["properties"]
    assert set_top_level and set_in_properties


def test_every_file_has_its_intended_shape(sample: GeneratedSample) -> None:
    bodies = _bodies(sample)
    names = [p.name for p in bodies]
    assert names == sorted(names) and names[0].startswith("0001-")
    shapes: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    for path in bodies:
        data = path.read_bytes()
        if path.name.endswith((".ndjson", ".jsonl.gz")):
            assert not path.with_name(path.name + ".meta.json").exists()
            _, lines = _decode(path)
            assert lines and all(
                set(line) == {"uuid", "event", "properties", "distinct_id", "timestamp", "team_id"}
                for line in lines
            )
            shapes["export.gz" if data[:2] == b"\x1f\x8b" else "export"] += 1
            continue
        sidecar = _sidecar(path)
        assert sidecar["method"] == "POST" and sidecar["path"].startswith("/batch/")
        assert _ts(sidecar["received_at"]).utcoffset() is not None
        encoding = sidecar["headers"].get("Content-Encoding")
        if not data:
            bad["empty_file"] += 1
            continue
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except EOFError:
                bad["truncated_gzip"] += 1
                continue
            shapes[f"gzip{'.gz' if path.suffix == '.gz' else ''}-{encoding}"] += 1
        try:
            body = json.loads(data)
        except ValueError:
            bad["invalid_json"] += 1
            continue
        assert set(body) in ({"api_key", "batch", "sent_at"}, {"token", "batch", "sent_at"})
        key = body.get("api_key") or body.get("token")
        shapes["token" if "token" in body else "api_key"] += 1
        if key == UNKNOWN_API_KEY:
            bad["unknown_project"] += len(body["batch"])
            continue
        assert key in KEYS
        for event in body["batch"]:
            if not isinstance(event, dict):
                bad["not_an_object"] += 1
            elif "event" not in event:
                bad["missing_event"] += 1
            elif "distinct_id" not in event and "distinct_id" not in event["properties"]:
                bad["missing_distinct_id"] += 1
            elif event["timestamp"] == "not-a-date":
                bad["invalid_timestamp"] += 1
    assert dict(bad) == sample.quarantined
    assert shapes["token"] == 1
    assert shapes["export"] >= 2 and shapes["export.gz"] == 1
    assert shapes["gzip.gz-gzip"] >= 1  # gzip with a .gz suffix and the header
    assert shapes["gzip-gzip"] >= 1  # gzip without the suffix, with the header
    assert shapes["gzip-None"] >= 1  # gzip without suffix or header: only the content tells


def test_skewed_clock_is_corrected_to_the_truth(sample: GeneratedSample) -> None:
    truth = {e.uuid: e for e in sample.events}
    skewed = 0
    for path in _bodies(sample):
        try:
            shape, body = _decode(path)
        except (EOFError, ValueError):
            continue
        if shape != "capture" or body.get("token", body.get("api_key")) not in KEYS:
            continue
        received = _ts(_sidecar(path)["received_at"])
        sent = _ts(body["sent_at"])
        if (sent - received).total_seconds() < 2 * 3600:
            assert abs((received - sent).total_seconds()) < 1
            continue
        skewed += 1
        assert round((sent - received).total_seconds() / 3600) == 3
        for event in body["batch"]:
            written = _ts(event["timestamp"])
            expected = truth[event["uuid"]].timestamp
            assert received + (written - sent) == expected
            assert round((written - expected).total_seconds() / 3600) == 3
    assert skewed == 1


def test_a_retried_batch_repeats_uuids_with_a_new_sent_at(sample: GeneratedSample) -> None:
    truth = {e.uuid: e for e in sample.events}
    retries = 0
    for path in _bodies(sample):
        if not path.name.endswith(".json.gz") and not path.name.endswith(".json"):
            continue
        try:
            _, body = _decode(path)
        except (EOFError, ValueError):
            continue
        uuids = [e["uuid"] for e in body["batch"] if isinstance(e, dict)]
        if not uuids or any(truth.get(u) is None or truth[u].source_name == path.name for u in uuids):
            continue
        retries += 1
        original = path.with_name(truth[uuids[0]].source_name)
        _, first_body = _decode(original)
        assert [e["uuid"] for e in first_body["batch"]] == uuids
        assert body["sent_at"] != first_body["sent_at"]
        assert _sidecar(path)["path"] == "/batch/?retry_count=1"
        received = _ts(_sidecar(path)["received_at"])
        for event in body["batch"]:
            assert (
                received + (_ts(event["timestamp"]) - _ts(body["sent_at"])) == truth[event["uuid"]].timestamp
            )
    assert retries == 1


def test_without_bad_files_nothing_is_quarantined(tmp_path: Path) -> None:
    s = generate(
        tmp_path, GeneratorSettings(events=500, groups=3, persons=8, days=2, file_events=40, bad_files=False)
    )
    assert s.quarantined == {}
    for path in _bodies(s):
        shape, content = _decode(path)
        if shape == "capture":
            assert content.get("api_key", content.get("token")) in KEYS
            assert all(
                isinstance(e, dict) and e.get("event") and e["timestamp"] != "not-a-date"
                for e in content["batch"]
            )
    assert len(_first_copies(s)) == len(s.events)


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    s = generate(
        tmp_path,
        GeneratorSettings(events=400, groups=2, persons=5, days=1, file_events=50),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls and calls[-1] == (len(s.events), len(s.events))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("field", ["groups", "persons", "days", "file_events"])
def test_settings_too_small_are_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        GeneratorSettings(**{field: 1 if field in ("groups", "persons") else 0})
