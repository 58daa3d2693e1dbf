"""Late events: a batch that arrives days after its events happened changes the affected day's
marts on the next (incremental) build, and that build equals a full refresh of the same lake.

Incremental models select new rows by *load time* (``loaded_at``) with a lookback (var
``incremental_lookback_days``, default 7; docs/incremental.md), never by event time, so an event is
counted however late it comes: the one here is 8 days late, more than the lookback. The build after
the landing is incremental (the reference warehouse's tables exist), and its tables are compared
with a ``--full-refresh`` of a copy.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from gw.config import WarehousePaths
from tests.integration.conftest import RUN_DATE, gw
from tests.warehouse_tables import differing_tables, table_digests

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LATE_DAY = date(2026, 10, 3)
RECEIVED_AT = datetime(2026, 10, 11, 9, 0, tzinfo=UTC)
LATE_COMPANY = "late-arrivals-gmbh"
#: Project 1 (Europe/Berlin) of the demo projects.yml.
API_KEY = "phc_demo_production_key"


def _write_late_batch(inbox: Path) -> int:
    """A capture body sent at RECEIVED_AT holding three events of LATE_DAY (an offline client's
    batch): a new company signs up, views an insight and subscribes."""
    steps = ["signed_up", "insight_viewed", "subscription_started"]
    happened = datetime(LATE_DAY.year, LATE_DAY.month, LATE_DAY.day, 9, 0, tzinfo=UTC)
    batch = [
        {
            "event": step,
            "distinct_id": "late.user@late-arrivals.example",
            "uuid": f"0000000{i}-1a7e-4e0e-8000-00000000000{i}",
            "timestamp": (happened + timedelta(minutes=10 * i)).isoformat(),
            "properties": {"$groups": {"company": LATE_COMPANY}},
        }
        for i, step in enumerate(steps)
    ]
    body = inbox / "late" / "offline-batch.json"
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text(json.dumps({"api_key": API_KEY, "batch": batch, "sent_at": RECEIVED_AT.isoformat()}))
    sidecar = body.with_name(body.name + ".meta.json")
    sidecar.write_text(
        json.dumps({"method": "POST", "path": "/batch/", "received_at": RECEIVED_AT.isoformat()})
    )
    return len(batch)


def _company_day(database: Path) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute(
            "select active_groups, events from marts.fct_daily_active_groups "
            "where project_id = 1 and group_type = 'company' and activity_date = ?",
            [LATE_DAY],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _insight_tables(database: Path, kind: str) -> dict[str, str]:
    return {name: digest for name, digest in table_digests(database).items() if kind in name}


def test_a_late_batch_changes_the_affected_day_and_equals_a_full_refresh(
    reference_warehouse: WarehousePaths, tmp_path: Path
) -> None:
    paths = WarehousePaths(tmp_path / "home")
    shutil.copytree(reference_warehouse.home, paths.home)
    active_before, events_before = _company_day(paths.published_db)
    trends_before = _insight_tables(paths.published_db, "trend")
    funnels_before = _insight_tables(paths.published_db, "funnel")

    late_events = _write_late_batch(paths.inbox)
    gw("land", home=paths.home)
    gw("build", "--run-date", RUN_DATE.isoformat(), home=paths.home)

    with duckdb.connect(str(paths.published_db), read_only=True) as published:
        (lateness,) = published.execute(
            "select max(date_diff('day', timestamp, received_at)) from marts.fct_events where event_uuid like '0000000%'"
        ).fetchone()
    active_after, events_after = _company_day(paths.published_db)
    print(
        f"\nlate batch: {late_events} events of {LATE_DAY} received {RECEIVED_AT:%Y-%m-%d} ({lateness} days late); "
        f"{LATE_DAY} companies active {active_before} → {active_after}, events {events_before} → {events_after}"
    )
    assert lateness >= 8
    with duckdb.connect(str(paths.build_db), read_only=True) as build:
        states = dict(
            build.execute(
                "select table_name, comment from duckdb_tables() where table_name in ('fct_events', 'fct_daily_active_groups')"
            ).fetchall()
        )
    # incremental tables: their state names the newest load read, the late batch's
    assert all(json.loads(state)["loaded_through"] for state in states.values()) and len(states) == 2
    assert (active_after, events_after) == (active_before + 1, events_before + late_events)
    if trends_before:
        assert _insight_tables(paths.published_db, "trend") != trends_before, "the trends did not change"
    if funnels_before:
        assert _insight_tables(paths.published_db, "funnel") != funnels_before, "the funnels did not change"

    refreshed = WarehousePaths(tmp_path / "refreshed")
    shutil.copytree(paths.home, refreshed.home)
    gw("build", "--full-refresh", "--run-date", RUN_DATE.isoformat(), home=refreshed.home)
    assert differing_tables(paths.build_db, refreshed.build_db, ("intermediate", "marts")) == {}
    assert differing_tables(paths.published_db, refreshed.published_db) == {}
