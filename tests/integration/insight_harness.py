"""Build the insight marts on a small hand-made lake and read them back for the oracle.

A test writes truth events straight into a lake (Parquet per docs/contracts.md, with DuckDB),
declares its insights in a temporary folder, and runs one ``dbt build`` of the insight marts and
their ancestors (models and seeds only) with the insights passed as var
``gw_insight_definitions`` — so the committed generated macro file is never touched — and its own
target folder. Readers turn the marts into the shapes of :mod:`tests.oracle.insights`.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import run_dbt
from gw.generator import TruthEvent
from gw.insights.compile import compile_definitions

#: The insight marts and their ancestors.
INSIGHT_MODELS = ["+path:models/marts/insights"]
LOADED_AT = datetime(2030, 1, 1)


class EventLog:
    """Truth events written one call each; landing order is the order of the calls.

    Uuids count up from 100,001 in call order; ``uuid_number`` picks one (below 100,000) when a test
    needs to control how ties between equal timestamps are broken.
    """

    def __init__(self) -> None:
        self.events: list[TruthEvent] = []
        self._numbers = itertools.count(1)

    def add(
        self,
        project_id: int,
        at: str | datetime,
        event: str,
        distinct_id: str,
        groups: dict[str, str] | None = None,
        properties: dict[str, Any] | None = None,
        person_set: dict[str, Any] | None = None,
        uuid_number: int | None = None,
    ) -> None:
        """Append one event at ``at`` (naive ISO text is UTC)."""
        number = next(self._numbers)
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(at).replace(tzinfo=UTC)
        self.events.append(
            TruthEvent(
                uuid=f"00000000-0000-4000-8000-{uuid_number or 100_000 + number:012d}",
                project_id=project_id,
                event=event,
                distinct_id=distinct_id,
                timestamp=moment,
                properties={**(properties or {}), **({"$groups": groups} if groups else {})},
                groups=groups or {},
                person_set=person_set,
                person_set_once=None,
                group_type=None,
                group_key=None,
                group_set=None,
                source_name=f"{number // 100:04d}.json",
                source_row=number % 100,
            )
        )

    def identify_group(
        self, project_id: int, at: str, group_type: str, key: str, group_set: dict[str, Any]
    ) -> None:
        """Append a ``$groupidentify`` of ``group_type``/``key`` setting ``group_set``."""
        self.add(project_id, at, "$groupidentify", f"${group_type}_{key}")
        event = self.events[-1]
        event.properties = {"$group_type": group_type, "$group_key": key, "$group_set": group_set}
        event.group_type, event.group_key, event.group_set = group_type, key, group_set


def write_lake(home: Path, timezones: dict[int, str], events: list[TruthEvent]) -> WarehousePaths:
    """A warehouse home whose lake holds ``events`` (one landing) and the projects' time zones."""
    paths = warehouse_paths(home).ensure()
    rows = []
    for event in events:
        at = event.timestamp.astimezone(UTC).replace(tzinfo=None)
        rows.append(
            (
                event.uuid,
                event.event,
                event.distinct_id,
                at,
                at,
                json.dumps(event.properties),
                json.dumps(event.groups),
                json.dumps(event.person_set) if event.person_set is not None else None,
                json.dumps(event.person_set_once) if event.person_set_once is not None else None,
                event.group_type,
                event.group_key,
                json.dumps(event.group_set) if event.group_set is not None else None,
                event.source_name,
                event.source_row,
                event.project_id,
                at.date(),
            )
        )
    (paths.lake / "events").mkdir(parents=True, exist_ok=True)
    (paths.lake / "projects").mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            """
            create table events (
                event_uuid varchar, event varchar, distinct_id varchar, timestamp timestamp,
                received_at timestamp, properties varchar, groups varchar, person_set varchar,
                person_set_once varchar, group_type varchar, group_key varchar, group_set varchar,
                source_name varchar, source_row integer, project_id bigint, event_date date
            )
            """
        )
        connection.executemany("insert into events values (" + ", ".join(["?"] * 16) + ")", rows)
        connection.execute(
            f"""
            copy (
                select
                    event_uuid, event, distinct_id, timestamp, cast(null as timestamp) as sent_at,
                    received_at, properties, groups, person_set, person_set_once, group_type,
                    group_key, group_set, 'hash-' || source_name as source_hash, source_name,
                    source_row, timestamp '{LOADED_AT:%Y-%m-%d %H:%M:%S}' as loaded_at, project_id,
                    event_date
                from events
            ) to '{paths.lake / "events"}' (format parquet, partition_by (project_id, event_date), overwrite_or_ignore)
            """
        )
        connection.execute(
            "create table projects as select * from (values "
            + ", ".join(
                f"({pid}::bigint, 'Project {pid}', '{zone}')" for pid, zone in sorted(timezones.items())
            )
            + ") as p(project_id, project_name, timezone)"
        )
        connection.execute(
            f"copy projects to '{paths.lake / 'projects' / 'projects.parquet'}' (format parquet)"
        )
    return paths


def build_insight_marts(
    paths: WarehousePaths,
    insights: dict[str, dict[str, Any]],
    run_date: date,
    *,
    week_start: str = "sunday",
    with_tests: bool = False,
    full_refresh: bool = False,
) -> Path:
    """Declare ``insights`` (id → insight file content), build the insight marts; the build file.

    ``full_refresh`` passes ``--full-refresh``; ``with_tests`` runs the insight marts' dbt tests.
    """
    folder = paths.home / "insights"
    folder.mkdir(parents=True, exist_ok=True)
    for insight_id, document in insights.items():
        (folder / f"{insight_id}.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    dbt_vars = {
        "run_date": run_date.isoformat(),
        "insight_week_start": week_start,
        "gw_insight_definitions": compile_definitions(folder),
    }
    target = paths.home / "dbt-target"
    run_dbt(
        paths,
        ["build", *(["--full-refresh"] if full_refresh else []), "--select", *INSIGHT_MODELS]
        + ["--resource-type", "model", "--resource-type", "seed"],
        dbt_vars=dbt_vars,
        target_path=target,
    )
    if with_tests:
        run_dbt(
            paths, ["test", "--select", "path:models/marts/insights"], dbt_vars=dbt_vars, target_path=target
        )
    return paths.build_db


# ------------------------------------------------------------------------------------------------
# Readers
# ------------------------------------------------------------------------------------------------
@dataclass
class Marts:
    """An open build file; person actors are warehouse person ids (the persons oracle's ids)."""

    connection: duckdb.DuckDBPyConnection

    @classmethod
    def open(cls, database: Path) -> Marts:
        return cls(duckdb.connect(str(database), read_only=True))

    def close(self) -> None:
        self.connection.close()

    def trends(
        self, insight_id: str, project_id: int
    ) -> tuple[list[tuple[datetime, datetime]], dict[Any, list[int]]]:
        rows = self.connection.execute(
            "select series_index, breakdown_value, interval_index, interval_start, interval_start_utc, value "
            "from marts.mart_insight_trends where insight_id = ? and project_id = ? order by interval_index",
            [insight_id, project_id],
        ).fetchall()
        starts = self.starts(insight_id, project_id)
        lines: dict[Any, list[int]] = {}
        for series_index, breakdown_value, interval_index, _, _, value in rows:
            lines.setdefault((series_index, breakdown_value), [0] * len(starts))[interval_index] = int(value)
        return starts, lines

    def starts(self, insight_id: str, project_id: int) -> list[tuple[datetime, datetime]]:
        return [
            (local, utc)
            for local, utc in self.connection.execute(
                "select interval_start, interval_start_utc from marts.mart_insight_intervals "
                "where insight_id = ? and project_id = ? order by interval_index",
                [insight_id, project_id],
            ).fetchall()
        ]

    def trend_actors(self, insight_id: str, project_id: int) -> dict[Any, dict[str | None, int]]:
        rows = self.connection.execute(
            "select series_index, breakdown_property_value, interval_index, actor_id, event_count "
            "from marts.mart_insight_trend_actors where insight_id = ? and project_id = ?",
            [insight_id, project_id],
        ).fetchall()
        found: dict[Any, dict[str | None, int]] = defaultdict(dict)
        for series_index, value, interval_index, actor_id, count in rows:
            found[(series_index, value, interval_index)][actor_id] = int(count)
        return dict(found)

    def stickiness(
        self, insight_id: str, project_id: int
    ) -> tuple[dict[int, list[int]], dict[int, dict[str, int]]]:
        counts: dict[int, list[int]] = defaultdict(list)
        for series_index, value in self.connection.execute(
            "select series_index, value from marts.mart_insight_stickiness "
            "where insight_id = ? and project_id = ? order by series_index, active_intervals",
            [insight_id, project_id],
        ).fetchall():
            counts[series_index].append(int(value))
        actors: dict[int, dict[str, int]] = defaultdict(dict)
        for series_index, actor_id, active in self.connection.execute(
            "select series_index, actor_id, active_intervals from marts.mart_insight_stickiness_actors "
            "where insight_id = ? and project_id = ?",
            [insight_id, project_id],
        ).fetchall():
            actors[series_index][actor_id or ""] = int(active)
        return dict(counts), dict(actors)

    def lifecycle(
        self, insight_id: str, project_id: int
    ) -> tuple[dict[str, list[int]], dict[tuple[int, str], str]]:
        values: dict[str, list[int]] = defaultdict(list)
        for status, value in self.connection.execute(
            "select status, value from marts.mart_insight_lifecycle "
            "where insight_id = ? and project_id = ? order by status_order, interval_index",
            [insight_id, project_id],
        ).fetchall():
            values[status].append(int(value))
        actors = {
            (int(n), a or ""): s
            for n, a, s in self.connection.execute(
                "select interval_index, actor_id, status from marts.mart_insight_lifecycle_actors "
                "where insight_id = ? and project_id = ?",
                [insight_id, project_id],
            ).fetchall()
        }
        return dict(values), actors

    def retention(
        self, insight_id: str, project_id: int
    ) -> tuple[list[list[int]], dict[tuple[int, int], set[str]]]:
        table: dict[int, list[int]] = defaultdict(list)
        for cohort_index, value in self.connection.execute(
            "select cohort_index, value from marts.mart_insight_retention "
            "where insight_id = ? and project_id = ? order by cohort_index, period",
            [insight_id, project_id],
        ).fetchall():
            table[cohort_index].append(int(value))
        actors: dict[tuple[int, int], set[str]] = defaultdict(set)
        for cohort_index, period, actor_id in self.connection.execute(
            "select cohort_index, period, actor_id from marts.mart_insight_retention_actors "
            "where insight_id = ? and project_id = ?",
            [insight_id, project_id],
        ).fetchall():
            actors[(int(cohort_index), int(period))].add(actor_id or "")
        return [table[k] for k in sorted(table)], dict(actors)


def insight_mart_digests(database: Path) -> dict[str, str]:
    """A digest of every insight mart's rows (sorted), to compare two builds."""
    import hashlib

    with duckdb.connect(str(database), read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_name like 'mart_insight%' order by 1"
            ).fetchall()
        ]
        return {
            table: hashlib.sha256(
                repr(connection.execute(f"select * from marts.{table} order by all").fetchall()).encode()
            ).hexdigest()
            for table in tables
        }
