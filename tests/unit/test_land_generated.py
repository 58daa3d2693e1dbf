"""The seeded generator's inbox lands exactly as its truth says (the two are written
independently: the generator knows what each event should become, the loader works it out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson

from gw.config import warehouse_paths
from gw.generator import GeneratorSettings, generate
from loaders import land_inbox


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def test_generated_inbox_lands_as_the_generator_expects(tmp_path: Path) -> None:
    paths = warehouse_paths(tmp_path / "home").ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, GeneratorSettings(events=3000, groups=8, persons=40, days=7))

    report = land_inbox(paths, paths.load_projects())

    assert report.events_quarantined == sample.quarantined
    relation = duckdb.sql(
        f"select * from read_parquet('{paths.lake}/events/**/*.parquet', hive_partitioning=true) "
        "order by source_name, source_row"
    )
    landed: dict[tuple[int, str], dict[str, Any]] = {}
    for row in relation.fetchall():
        event = dict(zip(relation.columns, row, strict=True))
        landed.setdefault((event["project_id"], event["event_uuid"]), event)  # first copy wins
    assert sorted(landed) == sorted((t.project_id, t.uuid) for t in sample.events)
    for truth in sample.events:
        event = landed[(truth.project_id, truth.uuid)]
        assert (event["source_name"], event["source_row"]) == (truth.source_name, truth.source_row)
        assert (event["event"], event["distinct_id"]) == (truth.event, truth.distinct_id)
        assert event["timestamp"] == truth.timestamp.replace(tzinfo=None), truth
        assert _json(event["properties"]) == truth.properties
        assert _json(event["groups"]) == truth.groups
        assert _json(event["person_set"]) == truth.person_set
        assert _json(event["person_set_once"]) == truth.person_set_once
        assert (event["group_type"], event["group_key"]) == (truth.group_type, truth.group_key)
        assert _json(event["group_set"]) == truth.group_set
