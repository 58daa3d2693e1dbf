"""Tiny lakes for dbt tests: hand-made events written straight into the lake contract.

The landing step is not involved: events are :class:`gw.generator.TruthEvent` values (the same
type the oracle reads) written with DuckDB as the Hive-partitioned Parquet files that
``docs/contracts.md`` describes, so a dbt build and the oracle see exactly the same input.
Landing order follows ``source_name``: every file gets its own ``loaded_at``, one second apart.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import DbtResult, run_dbt
from gw.generator import TruthEvent

#: The marts this domain builds; ``+`` selects their parents too.
GROUP_AND_PERSON_MARTS = (
    "fct_events",
    "fct_event_groups",
    "fct_event_group_properties",
    "dim_group_types",
    "dim_groups",
    "dim_groups_list",
    "dim_group_property_history",
    "fct_group_type_limit_violations",
    "fct_group_persons",
    "fct_group_related_groups",
    "fct_group_daily_activity",
    "fct_group_daily_event_counts",
    "fct_group_deletion_requests",
    "dim_persons",
    "dim_person_distinct_ids",
)

_LOADED_BASE = datetime(2027, 1, 1)
_uuids = itertools.count(1)


def event(
    source_name: str,
    source_row: int,
    at: str,
    *,
    name: str = "$pageview",
    distinct_id: str = "user@example.com",
    project_id: int = 1,
    groups: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    person_set: dict[str, Any] | None = None,
    person_set_once: dict[str, Any] | None = None,
    group_type: str | None = None,
    group_key: str | None = None,
    group_set: dict[str, Any] | None = None,
) -> TruthEvent:
    """One event as a client would send it (``$groups`` also kept in ``properties``)."""
    props = dict(properties or {})
    if groups:
        props["$groups"] = dict(groups)
    if name == "$groupidentify":
        props.update({"$group_type": group_type, "$group_key": group_key, "$group_set": group_set or {}})
    return TruthEvent(
        uuid=f"00000000-0000-4000-8000-{next(_uuids):012d}",
        project_id=project_id,
        event=name,
        distinct_id=distinct_id,
        timestamp=datetime.fromisoformat(at).replace(tzinfo=UTC),
        properties=props,
        groups=dict(groups or {}),
        person_set=person_set,
        person_set_once=person_set_once,
        group_type=group_type if name == "$groupidentify" else None,
        group_key=group_key if name == "$groupidentify" else None,
        group_set=(group_set or {}) if name == "$groupidentify" else None,
        source_name=source_name,
        source_row=source_row,
    )


def group_identify(
    source_name: str,
    source_row: int,
    at: str,
    group_type: str,
    group_key: str,
    group_set: dict[str, Any],
    *,
    distinct_id: str | None = None,
    project_id: int = 1,
) -> TruthEvent:
    """A ``$groupidentify`` as the server SDKs send it (distinct id ``$<type>_<key>``)."""
    return event(
        source_name,
        source_row,
        at,
        name="$groupidentify",
        distinct_id=distinct_id or f"${group_type}_{group_key}",
        project_id=project_id,
        group_type=group_type,
        group_key=group_key,
        group_set=group_set,
    )


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def write_lake(
    home: Path,
    events: Sequence[TruthEvent],
    projects: Sequence[tuple[int, str]] = ((1, "Europe/Berlin"), (2, "America/New_York")),
) -> WarehousePaths:
    """Write ``events`` and ``projects`` (id, time zone) as a landed lake under ``home``."""
    paths = warehouse_paths(home).ensure()
    lines = ["projects:"]
    for project_id, timezone in projects:
        lines += [
            f"  - id: {project_id}",
            f"    name: Project {project_id}",
            f"    api_keys: [phc_test_{project_id}]",
            f"    timezone: {timezone}",
        ]
    paths.projects_file.write_text("\n".join(lines) + "\n")
    files = sorted({e.source_name for e in events})
    loaded_at = {name: _LOADED_BASE + timedelta(seconds=n) for n, name in enumerate(files)}
    rows = [
        {
            "event_uuid": e.uuid,
            "event": e.event,
            "distinct_id": e.distinct_id,
            "timestamp": e.timestamp.astimezone(UTC).replace(tzinfo=None),
            "sent_at": None,
            "received_at": e.timestamp.astimezone(UTC).replace(tzinfo=None),
            "properties": _json(e.properties),
            "groups": _json(e.groups),
            "person_set": _json(e.person_set),
            "person_set_once": _json(e.person_set_once),
            "group_type": e.group_type,
            "group_key": None if e.group_key is None else str(e.group_key),
            "group_set": _json(e.group_set),
            "source_hash": hashlib.sha256(e.source_name.encode()).hexdigest(),
            "source_name": e.source_name,
            "source_row": e.source_row,
            "loaded_at": loaded_at[e.source_name],
            "project_id": e.project_id,
            "event_date": e.timestamp.astimezone(UTC).date(),
        }
        for e in events
    ]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("event_uuid", pa.string()),
                ("event", pa.string()),
                ("distinct_id", pa.string()),
                ("timestamp", pa.timestamp("us")),
                ("sent_at", pa.timestamp("us")),
                ("received_at", pa.timestamp("us")),
                ("properties", pa.string()),
                ("groups", pa.string()),
                ("person_set", pa.string()),
                ("person_set_once", pa.string()),
                ("group_type", pa.string()),
                ("group_key", pa.string()),
                ("group_set", pa.string()),
                ("source_hash", pa.string()),
                ("source_name", pa.string()),
                ("source_row", pa.int32()),
                ("loaded_at", pa.timestamp("us")),
                ("project_id", pa.int64()),
                ("event_date", pa.date32()),
            ]
        ),
    )
    project_table = pa.Table.from_pylist(
        [{"project_id": p, "project_name": f"Project {p}", "timezone": tz} for p, tz in projects],
        schema=pa.schema(
            [("project_id", pa.int64()), ("project_name", pa.string()), ("timezone", pa.string())]
        ),
    )
    (paths.lake / "projects").mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.register("landed", table)
        connection.register("configured", project_table)
        connection.execute(
            f"copy landed to '{paths.lake / 'events'}' "
            "(format parquet, partition_by (project_id, event_date), overwrite_or_ignore)"
        )
        connection.execute(
            f"copy configured to '{paths.lake / 'projects' / 'projects.parquet'}' (format parquet)"
        )
    return paths


def build_marts(
    paths: WarehousePaths, target: Path, dbt_vars: Mapping[str, object] | None = None
) -> DbtResult:
    """``dbt build`` of this domain's marts and everything they read (unit tests included)."""
    selection = " ".join(f"+{name}" for name in GROUP_AND_PERSON_MARTS)
    return run_dbt(
        paths,
        ["build", "--select", selection],
        dbt_vars={"run_date": "2026-12-31", **(dbt_vars or {})},
        target_path=target,
    )


def query(paths: WarehousePaths, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` against the build database (read-only)."""
    with duckdb.connect(str(paths.build_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime as the naive UTC value DuckDB returns."""
    return moment.astimezone(UTC).replace(tzinfo=None)
