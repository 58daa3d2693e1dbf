"""``gw bench``: our pipeline against DuckDB-direct and embedded ClickHouse (chdb) on the same data.

Every step runs in its own subprocess so that its wall time and its peak RSS (``wait4``'s
``ru_maxrss``) are measured alone. Baselines run in the same invocation on the same files, and the
harness asserts that their numbers equal ours before it reports a ratio.

Data: the seeded generator writes a base sample, our loader lands it, and DuckDB replicates the
landed events (new uuids, timestamps shifted by whole days) into PostHog batch-export NDJSON.gz
files until the requested size is reached. The benchmark then lands *those* files from scratch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gw.config import DEMO_PROJECTS_YAML, WarehousePaths, warehouse_paths


@dataclass(frozen=True)
class BenchSize:
    """How big a benchmark dataset is."""

    events: int
    companies_per_project: int
    persons_per_project: int
    days: int
    base_events: int


SIZES: dict[str, BenchSize] = {
    # A quick check (CI smoke test): seconds, not minutes.
    "small": BenchSize(
        events=60_000, companies_per_project=300, persons_per_project=2_000, days=30, base_events=20_000
    ),
    "medium": BenchSize(
        events=1_000_000,
        companies_per_project=3_300,
        persons_per_project=100_000,
        days=90,
        base_events=500_000,
    ),
    # The default: 10M events, ~20k groups across 3 types, 200k persons, 90 days.
    "full": BenchSize(
        events=10_000_000,
        companies_per_project=3_300,
        persons_per_project=100_000,
        days=90,
        base_events=1_000_000,
    ),
}


@dataclass
class StepResult:
    """One measured step."""

    name: str
    seconds: float
    peak_rss_mb: float
    events: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    note: str = ""

    @property
    def events_per_second(self) -> float | None:
        """Throughput, when the step processes events."""
        return self.events / self.seconds if self.events and self.seconds > 0 else None


@dataclass
class BenchReport:
    """Everything one benchmark run measured."""

    size: str
    events: int
    started_at: str
    steps: list[StepResult] = field(default_factory=list)
    query_latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with derived events/s."""
        return {
            "size": self.size,
            "events": self.events,
            "started_at": self.started_at,
            "steps": [asdict(s) | {"events_per_second": s.events_per_second} for s in self.steps],
            "query_latency_ms": self.query_latency_ms,
            "checks": self.checks,
        }


def _peak_rss_mb(usage: Any) -> float:
    if usage is not None:
        return float(usage.ru_maxrss) / 1024.0
    return float("nan")


class _Runner:
    """Runs step code in subprocesses and keeps the child's own peak RSS."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, name: str, code: str, events: int | None = None) -> tuple[StepResult, str]:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # wait4 reports this child's own rusage (peak RSS), unlike RUSAGE_CHILDREN's running max.
        assert process.stdout is not None and process.stderr is not None
        out_chunks: list[str] = []
        err_chunks: list[str] = []
        readers = [
            threading.Thread(target=lambda s=process.stdout, sink=out_chunks: sink.append(s.read())),
            threading.Thread(target=lambda s=process.stderr, sink=err_chunks: sink.append(s.read())),
        ]
        for reader in readers:
            reader.start()
        _, status, usage = os.wait4(process.pid, 0)
        for reader in readers:
            reader.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(
                f"bench step {name} failed (exit {process.returncode}):\n{''.join(err_chunks)[-4000:]}"
            )
        return (
            StepResult(name=name, seconds=elapsed, peak_rss_mb=_peak_rss_mb(usage), events=events),
            "".join(out_chunks),
        )


def build_dataset(size: BenchSize, workdir: Path, progress: Callable[[str], None]) -> tuple[Path, int, date]:
    """Write the benchmark's inbox of NDJSON.gz export files; returns (inbox, events, last day)."""
    import duckdb

    from gw.generator import GeneratorSettings, generate
    from loaders.land import land_inbox

    copies = max(1, math.ceil(size.events / size.base_events))
    days_per_copy = max(1, size.days // copies)
    shutil.rmtree(workdir / "base", ignore_errors=True)
    base_home = warehouse_paths(workdir / "base").ensure()
    base_home.projects_file.write_text(DEMO_PROJECTS_YAML)
    progress(f"generating a base sample of {size.base_events:,} events")
    settings = GeneratorSettings(
        events=size.base_events,
        groups=size.companies_per_project,
        persons=size.persons_per_project,
        days=days_per_copy,
        bad_files=False,
        file_events=5_000,
        seed=2026,
    )
    sample = generate(base_home.inbox, settings)
    base_events = len(sample.events)
    del sample
    progress("landing the base sample")
    land_inbox(base_home, base_home.load_projects())
    inbox = workdir / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    progress(f"replicating ×{copies} into NDJSON.gz exports")
    lake = base_home.lake / "events"
    with duckdb.connect() as connection:
        connection.execute("set preserve_insertion_order = false")
        connection.execute(
            f"""
            copy (
                with landed as (
                    select * from read_parquet('{lake}/**/*.parquet', hive_partitioning = true)
                    qualify row_number() over (partition by project_id, event_uuid order by loaded_at) = 1
                )
                select
                    case when copy_number = 0 then event_uuid
                        else cast(cast(md5(event_uuid || ':' || copy_number) as uuid) as varchar)
                    end as uuid,
                    event,
                    json_merge_patch(
                        properties,
                        json_object('$groups', json(groups))
                    ) as properties,
                    distinct_id,
                    strftime(
                        timestamp + to_days(cast(copy_number * {days_per_copy} as integer)),
                        '%Y-%m-%dT%H:%M:%S.%fZ'
                    ) as timestamp,
                    project_id as team_id,
                    json(person_set) as "$set",
                    json(person_set_once) as "$set_once"
                from landed, range({copies}) as copies(copy_number)
            ) to '{inbox}' (format json, compression gzip, file_size_bytes '16MB', filename_pattern 'export_{{i}}')
            """
        )
    last_day = settings.start + timedelta(days=days_per_copy * copies - 1)
    return inbox, base_events * copies, last_day


def run_bench(size_name: str, workdir: Path, progress: Callable[[str], None] = print) -> BenchReport:
    """Build the dataset, then measure every step and baseline; returns the report."""
    from datetime import UTC, datetime

    size = SIZES[size_name]
    workdir.mkdir(parents=True, exist_ok=True)
    inbox, events, last_day = build_dataset(size, workdir / "data", progress)
    home = warehouse_paths(workdir / "home")
    shutil.rmtree(home.home, ignore_errors=True)
    home.ensure()
    home.projects_file.write_text(DEMO_PROJECTS_YAML)
    env = dict(os.environ) | {
        "WAREHOUSE_HOME": str(home.home),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
    }
    runner = _Runner(env)
    report = BenchReport(
        size=size_name, events=events, started_at=datetime.now(UTC).isoformat(timespec="seconds")
    )
    files = sorted(str(p) for p in inbox.glob("*.gz"))

    progress("baseline: DuckDB read_json → Parquet")
    baseline, _ = runner.run(
        "duckdb_read_json_to_parquet",
        f"""
        import duckdb
        connection = duckdb.connect()
        connection.execute("set preserve_insertion_order = false")
        columns = {{"uuid": "VARCHAR", "event": "VARCHAR", "properties": "JSON", "distinct_id": "VARCHAR",
                   "timestamp": "TIMESTAMP", "team_id": "BIGINT", "$set": "JSON", "$set_once": "JSON"}}
        connection.execute(f\"\"\"copy (select * from read_json({files!r}, format = 'newline_delimited',
            columns = {{columns}})) to '{workdir}/baseline.parquet' (format parquet)\"\"\")
        """,
        events=events,
    )
    report.steps.append(baseline)

    progress("landing with gw land")
    landing, _ = runner.run(
        "land",
        f"""
        from gw.config import warehouse_paths
        from loaders.land import land_inbox
        paths = warehouse_paths({str(home.home)!r})
        report = land_inbox(paths, paths.load_projects(), inbox=__import__('pathlib').Path({str(inbox)!r}))
        assert report.events_landed == {events}, report.summary()
        """,
        events=events,
    )
    landing.baseline, landing.ratio = baseline.name, landing.seconds / baseline.seconds
    report.steps.append(landing)

    progress("raw scan of the landed columns")
    scan, scan_out = runner.run(
        "raw_scan_landed",
        f"""
        import duckdb
        print(duckdb.connect().execute(\"\"\"select count(*), count(distinct distinct_id), max(timestamp)
            from read_parquet('{home.lake}/events/**/*.parquet', hive_partitioning = true)\"\"\").fetchone()[0])
        """,
        events=events,
    )
    if int(scan_out.strip()) != events:
        raise AssertionError(f"raw scan counted {scan_out.strip()} events, expected {events}")
    report.steps.append(scan)

    progress("full dbt build")
    full, _ = runner.run(
        "dbt_build_full",
        f"""
        from datetime import date
        from gw.config import warehouse_paths
        from gw.pipeline import build
        build(warehouse_paths({str(home.home)!r}), run_date=date.fromisoformat({last_day.isoformat()!r}),
              full_refresh=True)
        """,
        events=events,
    )
    report.steps.append(full)

    progress("trend mart vs chdb uniqExact")
    _trend_steps(runner, report, home, events)

    progress("audit and publish")
    publish_step, _ = runner.run(
        "audit_and_publish",
        f"""
        from gw.config import warehouse_paths
        from gw.pipeline import audit, publish
        paths = warehouse_paths({str(home.home)!r})
        audit(paths)
        publish(paths)
        """,
    )
    report.steps.append(publish_step)

    progress("queries on the published marts")
    report.query_latency_ms = published_query_latency(home)
    return report


_TREND_SQL = """
    select project_id, group_type_index, activity_date, active_groups
    from marts.fct_daily_active_groups where active_groups > 0
"""


def _trend_steps(runner: _Runner, report: BenchReport, home: WarehousePaths, events: int) -> None:
    import duckdb

    ours, _ = runner.run(
        "trend_mart_daily_active_groups",
        f"""
        from gw.config import warehouse_paths
        from gw.dbt import run_dbt
        run_dbt(warehouse_paths({str(home.home)!r}), ["run", "--select", "fct_daily_active_groups"])
        """,
        events=events,
    )
    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        mapping = connection.execute(
            "select project_id, group_type, group_type_index from marts.dim_group_types"
        ).fetchall()
        timezones = connection.execute(
            "select project_id, project_timezone from staging.stg_lake__projects"
        ).fetchall()
        expected = sorted(tuple(row) for row in connection.execute(_TREND_SQL).fetchall())
    result_file = home.home / "chdb-trend.json"
    chdb, _ = runner.run(
        "chdb_uniqexact_daily_active_groups",
        f"""
        import chdb, json
        mapping = {mapping!r}
        timezones = dict({timezones!r})
        index_of = "map(" + ", ".join(f"'{{p}}:{{t}}', {{i}}" for p, t, i in mapping) + ")"
        tz_of = "multiIf(" + ", ".join(f"project_id = {{p}}, toDate(toTimeZone(ts, '{{tz}}'))" for p, tz in timezones.items()) + ", toDate(ts))"
        query = f\"\"\"
            select project_id, group_type_index, activity_date, uniqExact(group_key) as active_groups
            from (
                select
                    project_id,
                    {{index_of}}[concat(toString(project_id), ':', kv.1)] as group_type_index,
                    mapContains({{index_of}}, concat(toString(project_id), ':', kv.1)) as has_index,
                    {{tz_of}} as activity_date,
                    kv.2 as group_key
                from (
                    select project_id, toDateTime64(timestamp, 6, 'UTC') as ts,
                        arrayJoin(JSONExtractKeysAndValues(groups, 'String')) as kv
                    from (
                        select project_id, event_uuid, timestamp, groups
                        from file('{home.lake}/events/**/*.parquet', Parquet)
                        limit 1 by project_id, event_uuid
                        settings use_hive_partitioning = 1
                    )
                )
                where kv.2 != ''
            )
            where has_index
            group by project_id, group_type_index, activity_date
        \"\"\"
        rows = chdb.query(query, "JSONCompact")
        data = json.loads(str(rows))["data"]
        json.dump(data, open({str(result_file)!r}, "w"))
        """,
        events=events,
    )
    theirs = sorted(
        (int(p), int(i), date.fromisoformat(str(d)), int(n))
        for p, i, d, n in json.loads(result_file.read_text())
    )
    if theirs != expected:
        raise AssertionError(
            "chdb's daily active groups differ from the mart's: the comparison would not be honest"
        )
    report.checks.append(f"chdb uniqExact daily active groups == mart ({len(expected)} rows)")
    ours.baseline, ours.ratio = chdb.name, ours.seconds / chdb.seconds
    report.steps.extend([ours, chdb])


PUBLISHED_QUERIES = {
    "active companies per day": "select activity_date, active_groups from marts.fct_daily_active_groups "
    "where project_id = 1 and group_type_index = 0 order by activity_date",
    "top groups by events": "select group_key, display_name, event_count from marts.dim_groups "
    "where project_id = 1 and group_type_index = 0 order by event_count desc limit 20",
    "one group's events per day": "select event_date, count(*) from marts.fct_events where project_id = 1 and "
    "group_0 = (select group_key from marts.dim_groups where project_id = 1 and group_type_index = 0 "
    "order by event_count desc limit 1) group by 1 order by 1",
}


def published_query_latency(home: WarehousePaths, repeats: int = 30) -> dict[str, dict[str, float]]:
    """p50/p95 latency (ms) of typical BI queries on the published file, a fresh read-only connection."""
    import duckdb

    latency: dict[str, dict[str, float]] = {}
    with duckdb.connect(str(home.published_db), read_only=True) as connection:
        for label, query in PUBLISHED_QUERIES.items():
            connection.execute(query).fetchall()  # warm the buffer cache once
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                connection.execute(query).fetchall()
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            latency[label] = {
                "p50": statistics.median(samples),
                "p95": samples[min(len(samples) - 1, math.ceil(0.95 * len(samples)) - 1)],
            }
    return latency
