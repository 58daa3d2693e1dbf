"""Incremental models equal a full refresh, table for table, after every kind of change.

One warehouse goes through a series of landings and requests; after each, an incremental
``dbt run`` of it is compared with a ``--full-refresh`` run of a copy (same lake, same requests):

(a) new events; (b) late events (9 and 40 days before they were received; one before the first day
of the sample, so the daily spine grows) and a load committed out of order but within the lookback;
(c) re-sent duplicates, of an event stored before the lookback window and of one inside it;
(d) a group deletion, then the request removed again (un-deletion); (e) a person merge joining two
persons that both have old events.

Landing times (``loaded_at``) are set explicitly, so "before the window" is real: the window of a
run is the loads at or after (newest load of the last build − var incremental_lookback_days).
A last step shows that the filter really filters: a load stamped *before* the window (a clock
gone back by weeks) is not picked up by the incremental run — the documented limit — and a
``--full-refresh`` takes it.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from gw.config import WarehousePaths
from gw.dbt import run_dbt
from gw.deletion import deletion_requests_file, request_group_deletion
from gw.generator import GeneratedSample
from tests.integration.conftest import RUN_DATE, new_home
from tests.warehouse_tables import differing_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The models the comparison builds: every incremental model, their parents and the group
#: activity marts (the insight marts are plain tables over fct_events).
SELECTION = [
    "+int_events_deduplicated",
    "+fct_event_groups",
    "+fct_events",
    "+fct_daily_active_groups",
    "fct_group_daily_activity",
    "fct_group_daily_event_counts",
]
INCREMENTAL_MODELS = ("int_events_deduplicated", "fct_event_groups", "fct_events", "fct_daily_active_groups")
API_KEY = "phc_demo_production_key"  # project 1 (Europe/Berlin)
LATE_COMPANY = "late-arrivals-gmbh"
EARLY_COMPANY = "before-the-sample-ag"


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


class Warehouse:
    """A warehouse home whose landings are stamped with a chosen ``loaded_at``."""

    def __init__(self, paths: WarehousePaths, scratch: Path) -> None:
        self.paths = paths
        self.scratch = scratch
        self.files = 0

    def send(self, events: list[dict[str, object]], *, received_at: datetime) -> None:
        """Put one capture body (with a sidecar saying when it was received) into the inbox."""
        self.files += 1
        body = self.paths.inbox / "incremental" / f"{self.files:03d}.json"
        body.parent.mkdir(parents=True, exist_ok=True)
        body.write_text(json.dumps({"api_key": API_KEY, "batch": events}))
        body.with_name(body.name + ".meta.json").write_text(
            json.dumps({"method": "POST", "path": "/batch/", "received_at": received_at.isoformat()})
        )

    def land(self, loaded_at: datetime) -> None:
        from loaders.land import land_inbox

        report = land_inbox(self.paths, self.paths.load_projects(), now=loaded_at)
        assert report.files_landed >= 1, report.summary()

    def run(self, *flags: str, home: WarehousePaths | None = None, label: str = "run") -> float:
        """Build the selection's seeds and models (no tests: they run once, at the end); returns the
        incremental models' total execution time."""
        target = self.scratch / f"target-{label}"
        result = run_dbt(
            home or self.paths,
            ["build", "--resource-type", "seed", "--resource-type", "model", *flags, "--select", *SELECTION],
            dbt_vars={"run_date": RUN_DATE.isoformat()},
            target_path=target,
        )
        assert result.counts().get("success"), result.output[-3000:]
        timings = json.loads((target / "run_results.json").read_text())["results"]
        return sum(
            float(node["execution_time"])
            for node in timings
            if node["unique_id"].rsplit(".", 1)[-1] in INCREMENTAL_MODELS
        )

    def differences_from_a_full_refresh(self, label: str) -> dict[str, tuple[str, str]]:
        """Run incrementally, full-refresh a copy, and return the tables that differ."""
        self.run(label=f"{label}-incremental")
        refreshed = WarehousePaths(self.scratch / f"refreshed-{label}")
        shutil.copytree(self.paths.home, refreshed.home)
        self.run("--full-refresh", home=refreshed, label=f"{label}-full")
        return differing_tables(self.paths.build_db, refreshed.build_db, ("intermediate", "marts"))

    def query(self, sql: str, parameters: list[object] | None = None) -> list[tuple[object, ...]]:
        with duckdb.connect(str(self.paths.build_db), read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()

    def state(self, model: str) -> dict[str, object]:
        (comment,) = self.query("select comment from duckdb_tables() where table_name = ?", [model])[0]
        loaded: dict[str, object] = json.loads(str(comment))
        return loaded


def _event(uuid: str, event: str, distinct_id: str, at: datetime, **properties: object) -> dict[str, object]:
    return {
        "uuid": uuid,
        "event": event,
        "distinct_id": distinct_id,
        "timestamp": at.isoformat(),
        "properties": properties,
    }


def _active(warehouse: Warehouse, day: str) -> tuple[int, int] | None:
    rows = warehouse.query(
        "select active_groups, events from marts.fct_daily_active_groups "
        "where project_id = 1 and group_type = 'company' and activity_date = cast(? as date)",
        [day],
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else None


@pytest.fixture
def warehouse(sample_inbox: tuple[Path, GeneratedSample], tmp_path: Path) -> Warehouse:
    """The seeded sample landed on Oct 11 and built from scratch."""
    paths = new_home(tmp_path / "home", sample_inbox[0])
    built = Warehouse(paths, tmp_path)
    built.land(_at(11))
    built.run(label="base")
    return built


def test_incremental_runs_equal_a_full_refresh_after_every_kind_of_change(warehouse: Warehouse) -> None:
    w = warehouse
    assert w.state("fct_events")["loaded_through"] == "2026-10-11 09:00:00"

    # (a) new events, landed 15 days later
    w.send(
        [
            _event(
                f"a0000000-0000-4000-8000-00000000000{i}",
                "insight_viewed",
                "new.user@example.com",
                _at(25, 10 + i),
                **{"$groups": {"company": "fresh-start-inc"}},
            )
            for i in range(3)
        ],
        received_at=_at(25, 14),
    )
    w.land(_at(26))
    assert w.differences_from_a_full_refresh("a-new-events") == {}
    assert w.state("fct_events")["loaded_through"] == "2026-10-26 09:00:00"

    # (b) late events: 9 days late on a day of the sample, and 40 days late before its first day
    before = _active(w, "2026-10-03")
    w.send(
        [
            _event(
                f"b0000000-0000-4000-8000-00000000000{i}",
                step,
                "late.user@example.com",
                _at(3, 9) + timedelta(minutes=10 * i),
                **{"$groups": {"company": LATE_COMPANY}},
            )
            for i, step in enumerate(["signed_up", "insight_viewed", "subscription_started"])
        ]
        + [
            _event(
                "b0000000-0000-4000-8000-0000000000ff",
                "signed_up",
                "early.user@example.com",
                datetime(2026, 9, 16, 12, tzinfo=UTC),
                **{"$groups": {"company": EARLY_COMPANY}},
            )
        ],
        received_at=_at(12, 9) + timedelta(days=14),
    )
    w.land(_at(27))
    assert w.differences_from_a_full_refresh("b-late-events") == {}
    assert before is not None and _active(w, "2026-10-03") == (before[0] + 1, before[1] + 3)
    assert _active(w, "2026-09-16") == (1, 1), "the spine did not grow back to the early event's day"
    assert _active(w, "2026-09-20") == (0, 0), "the days between are not filled with zeros"

    # (b2) a load committed out of order (stamped 3 days before the newest), inside the lookback
    w.send(
        [
            _event(
                "b2000000-0000-4000-8000-000000000001",
                "insight_viewed",
                "late.user@example.com",
                _at(4, 9),
                **{"$groups": {"company": LATE_COMPANY}},
            )
        ],
        received_at=_at(24),
    )
    w.land(_at(24))
    assert w.differences_from_a_full_refresh("b2-out-of-order") == {}
    assert _active(w, "2026-10-04") is not None

    # (c) duplicates re-sent: sample events stored before the window (loaded Oct 11; the window
    # starts Oct 20) and an event of (a), inside the window, each with other content
    resent = w.query(
        "select event_uuid, event_name, distinct_id, event_at from intermediate.int_events_deduplicated "
        "where project_id = 1 and loaded_at = cast('2026-10-11 09:00:00' as timestamp) "
        "order by event_uuid limit 5"
    )
    copies = [
        _event(
            str(uuid),
            str(name),
            str(distinct_id),
            at.replace(tzinfo=UTC) + timedelta(hours=1),  # type: ignore[union-attr]
            resent=True,
        )
        for uuid, name, distinct_id, at in resent
    ]
    copies.append(
        _event("a0000000-0000-4000-8000-000000000000", "changed_name", "someone.else@example.com", _at(25))
    )
    w.send(copies, received_at=_at(28))
    w.land(_at(28))
    events_before = w.query("select count(*) from marts.fct_events")[0][0]
    assert w.differences_from_a_full_refresh("c-duplicates") == {}
    assert w.query("select count(*) from marts.fct_events")[0][0] == events_before
    assert w.query(
        "select count(*) from marts.fct_events where event = 'changed_name' or properties like '%resent%'"
    ) == [(0,)]

    # (d) a group deletion (a rebuild: the fingerprint changed), then the request removed again
    (company,) = w.query(
        "select group_key from marts.fct_event_groups where project_id = 1 and group_type = 'company' "
        "group by 1 order by count(*) desc, 1 limit 1"
    )[0]
    request_group_deletion(w.paths, 1, "company", str(company), requested_by="test", reason="incremental")
    assert w.differences_from_a_full_refresh("d-deletion") == {}
    assert w.query(
        "select count(*) from marts.fct_event_groups "
        "where project_id = 1 and group_type = 'company' and group_key = ?",
        [company],
    ) == [(0,)]
    deletion_requests_file(w.paths).unlink()
    assert w.differences_from_a_full_refresh("d-undeletion") == {}
    assert (
        w.query(
            "select count(*) from marts.fct_event_groups "
            "where project_id = 1 and group_type = 'company' and group_key = ?",
            [company],
        )[0][0]
        > 0
    )

    # (e) a person merge: one old distinct id identifies as another person's old distinct id
    (first, second) = w.query(
        "select min(distinct_id) from marts.fct_events where project_id = 1 and person_id is not null "
        "and loaded_at = cast('2026-10-11 09:00:00' as timestamp) group by person_id order by 1 limit 2"
    )
    persons_before = w.query("select count(distinct person_id) from marts.fct_events where project_id = 1")[
        0
    ][0]
    w.send(
        [
            _event(
                "e0000000-0000-4000-8000-000000000001",
                "$identify",
                str(first[0]),
                _at(29),
                **{"$anon_distinct_id": str(second[0])},
            )
        ],
        received_at=_at(29),
    )
    w.land(_at(29))
    assert w.differences_from_a_full_refresh("e-person-merge") == {}
    merged = w.query(
        "select count(distinct person_id) from marts.fct_events where project_id = 1 and distinct_id in (?, ?)",
        [first[0], second[0]],
    )
    assert merged == [(1,)]
    assert (
        w.query("select count(distinct person_id) from marts.fct_events where project_id = 1")[0][0]
        == persons_before - 1
    )


def test_a_load_stamped_before_the_window_needs_a_full_refresh(warehouse: Warehouse) -> None:
    """The lookback is real: a load older than (newest load − lookback) is not re-read."""
    w = warehouse
    w.send(
        [
            _event(
                "f0000000-0000-4000-8000-000000000001",
                "signed_up",
                "clock.skew@example.com",
                _at(5),
                **{"$groups": {"company": "clock-went-back"}},
            )
        ],
        received_at=_at(5),
    )
    w.land(_at(1))  # 10 days before the newest load (Oct 11) already built
    differing = w.differences_from_a_full_refresh("f-beyond")
    assert "intermediate.int_events_deduplicated" in differing and "marts.fct_events" in differing
    w.run("--full-refresh", label="f-fixed")
    assert w.query("select count(*) from marts.fct_events where distinct_id = 'clock.skew@example.com'") == [
        (1,)
    ]
