"""The oracle pinned on small hand-built samples, then cross-checked on a generated one."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gw.config import DEMO_PROJECTS_YAML, ProjectsConfig
from gw.generator import GeneratedSample, GeneratorSettings, TruthEvent, generate
from tests.oracle import (
    current_group_properties,
    daily_active_groups,
    events_per_group,
    group_type_mapping,
    known_groups,
)

PROJECTS = ProjectsConfig.model_validate(yaml.safe_load(DEMO_PROJECTS_YAML))
_uuids = itertools.count(1)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _event(
    source: str,
    row: int,
    groups: dict[str, str] | None = None,
    *,
    project: int = 1,
    at: str = "2026-10-05T12:00:00",
    event: str = "$pageview",
) -> TruthEvent:
    return TruthEvent(
        uuid=f"00000000-0000-4000-8000-{next(_uuids):012d}",
        project_id=project,
        event=event,
        distinct_id="user@example.com",
        timestamp=_at(at),
        properties={"$groups": groups or {}},
        groups=groups or {},
        person_set=None,
        person_set_once=None,
        group_type=None,
        group_key=None,
        group_set=None,
        source_name=source,
        source_row=row,
    )


def _identify(
    source: str, row: int, group_type: str, key: str, group_set: dict[str, Any], *, at: str, project: int = 1
) -> TruthEvent:
    event = _event(source, row, project=project, at=at, event="$groupidentify")
    event.distinct_id = f"${group_type}_{key}"
    event.properties = {"$group_type": group_type, "$group_key": key, "$group_set": group_set}
    event.group_type, event.group_key, event.group_set = group_type, key, group_set
    return event


def _sample(*events: TruthEvent) -> GeneratedSample:
    return GeneratedSample(settings=GeneratorSettings(), files=[], events=list(events))


def test_mapping_gives_indices_by_first_sighting_and_none_to_a_sixth_type() -> None:
    sample = _sample(
        # listed out of landing order on purpose: the oracle sorts by (source_name, source_row)
        _event("0002.json", 0, {"company": "a", "region": "eu"}),
        _event("0001.json", 1, {"company": "a", "team": "t"}),
        _event("0001.json", 0, {"company": "a"}),
        _event("0003.json", 0, {"channel": "web", "company": "a"}),
        _event("0002.json", 1, {"project": "p", "workspace": "w"}),
        _event("0001.json", 0, {"company": "x"}, project=2),
    )
    assert group_type_mapping(sample) == {
        (1, "company"): 0,
        (1, "team"): 1,
        (1, "region"): 2,
        (1, "project"): 3,
        (1, "workspace"): 4,
        (2, "company"): 0,
    }


def test_mapping_ignores_empty_keys_and_counts_groupidentify_types() -> None:
    sample = _sample(
        _event("0001.json", 0, {"team": ""}),
        _identify("0001.json", 1, "project", "p-1", {"name": "P"}, at="2026-10-05T08:00:00"),
        _event("0001.json", 2, {"company": "a", "team": "t"}),
    )
    assert group_type_mapping(sample) == {(1, "project"): 0, (1, "company"): 1, (1, "team"): 2}


def test_events_and_known_groups_leave_out_empty_keys_and_unindexed_types() -> None:
    sample = _sample(
        _event("0001.json", 0, {"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}),
        _event("0001.json", 1, {"a": "1", "f": "sixth"}),
        _event("0001.json", 2, {"a": "", "b": "2"}),
        _identify("0001.json", 3, "f", "identified-sixth", {"name": "F"}, at="2026-10-05T09:00:00"),
        _identify("0001.json", 4, "c", "identified-only", {"name": "C"}, at="2026-10-05T09:00:00"),
    )
    assert events_per_group(sample) == {
        (1, 0, "1"): 2,
        (1, 1, "1"): 1,
        (1, 1, "2"): 1,
        (1, 2, "1"): 1,
        (1, 3, "1"): 1,
        (1, 4, "1"): 1,
    }
    assert known_groups(sample) == {
        (1, 0, "1"),
        (1, 1, "1"),
        (1, 1, "2"),
        (1, 2, "1"),
        (1, 2, "identified-only"),
        (1, 3, "1"),
        (1, 4, "1"),
    }


def test_daily_active_groups_uses_local_days_across_the_berlin_dst_change() -> None:
    # 2026-10-25 in Europe/Berlin runs from 2026-10-24T22:00Z (CEST) to 2026-10-25T23:00Z (CET): 25 hours.
    sample = _sample(
        _event("0001.json", 0, {"company": "before"}, at="2026-10-24T21:59:59.999999"),  # Oct 24, 23:59 CEST
        _event("0001.json", 1, {"company": "a"}, at="2026-10-24T22:00:00"),  # Oct 25, 00:00 CEST
        _event("0001.json", 2, {"company": "b"}, at="2026-10-25T22:59:59"),  # Oct 25, 23:59 CET
        _event("0001.json", 3, {"company": "a"}, at="2026-10-25T12:00:00"),  # same group, same day
        _event("0001.json", 4, {"company": "c"}, at="2026-10-25T23:00:00"),  # Oct 26, 00:00 CET
        _event("0001.json", 5, {"company": ""}, at="2026-10-25T12:00:00"),  # no group
        # project 2 (America/New_York, EDT = UTC-4): 03:30Z is still the previous day
        _event("0001.json", 6, {"company": "ny"}, project=2, at="2026-10-25T03:30:00"),
    )
    assert daily_active_groups(sample, PROJECTS) == {
        (1, 0, date(2026, 10, 24)): 1,
        (1, 0, date(2026, 10, 25)): 2,
        (1, 0, date(2026, 10, 26)): 1,
        (2, 0, date(2026, 10, 24)): 1,
    }


def test_daily_active_groups_ignores_groupidentify_payloads() -> None:
    sample = _sample(
        _event("0001.json", 0, {"company": "a"}),
        _identify("0001.json", 1, "company", "b", {"name": "B"}, at="2026-10-05T12:00:01"),
    )
    assert daily_active_groups(sample, PROJECTS) == {(1, 0, date(2026, 10, 5)): 1}


def _late_update_sample() -> GeneratedSample:
    return _sample(
        _identify(
            "0001.json", 0, "company", "acme", {"name": "Acme", "plan": "free"}, at="2026-10-01T10:00:00"
        ),
        _identify(
            "0002.json", 0, "company", "acme", {"plan": "pro", "employees": 10}, at="2026-10-03T10:00:00"
        ),
        # arrives last but is older than the update above
        _identify(
            "0003.json",
            0,
            "company",
            "acme",
            {"plan": "trial", "billing": "b@acme"},
            at="2026-10-02T10:00:00",
        ),
        _identify("0001.json", 1, "company", "other", {"name": "Other"}, at="2026-10-01T10:00:00"),
    )


def test_merge_applies_updates_by_timestamp_so_a_late_older_update_loses_only_what_is_newer() -> None:
    properties = current_group_properties(_late_update_sample(), mode="merge")
    assert properties[(1, "company", "acme")] == {
        "name": "Acme",
        "plan": "pro",
        "employees": 10,
        "billing": "b@acme",
    }
    assert properties[(1, "company", "other")] == {"name": "Other"}


def test_overwrite_keeps_only_the_newest_update() -> None:
    properties = current_group_properties(_late_update_sample(), mode="overwrite")
    assert properties[(1, "company", "acme")] == {"plan": "pro", "employees": 10}


def test_equal_timestamps_fall_back_to_landing_order() -> None:
    sample = _sample(
        _identify("0002.json", 0, "company", "acme", {"plan": "second"}, at="2026-10-01T10:00:00"),
        _identify("0001.json", 5, "company", "acme", {"plan": "first"}, at="2026-10-01T10:00:00"),
    )
    assert current_group_properties(sample) == {(1, "company", "acme"): {"plan": "second"}}


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        current_group_properties(_late_update_sample(), mode="latest")  # type: ignore[arg-type]


def test_oracle_on_a_generated_sample(tmp_path: Path) -> None:
    sample = generate(tmp_path, GeneratorSettings(events=1_200, groups=4, persons=16, days=3, file_events=60))
    mapping = group_type_mapping(sample)
    assert {t: i for (p, t), i in mapping.items() if p == 2} == {
        "company": 0,
        "team": 1,
        "project": 2,
        "workspace": 3,
        "region": 4,
    }
    assert (2, "channel") not in mapping
    merged = current_group_properties(sample)[(1, "company", "acme-0")]
    assert merged["plan"] != "trial" and merged["billing_email"] == "billing@acme-0.example"
    assert "billing_email" not in current_group_properties(sample, mode="overwrite")[(1, "company", "acme-0")]
    active = daily_active_groups(sample, PROJECTS)
    assert active and all(count > 0 for count in active.values())
    assert {(p, i) for p, i, _ in active} <= {(p, i) for (p, _), i in mapping.items()}
    assert sum(events_per_group(sample).values()) == sum(
        1 for e in sample.events for t, k in e.groups.items() if k and (e.project_id, t) in mapping
    )
    assert {(p, i, k) for p, i, k in events_per_group(sample)} <= known_groups(sample)
