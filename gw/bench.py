"""``gw bench``: our pipeline against DuckDB-direct and embedded ClickHouse (chdb) on the same data.

Every step runs in its own subprocess so that its peak RSS is measured alone: at its end the step
reads its own high-water mark (``VmHWM``, which starts afresh at ``exec``) and the largest of its
reaped children's (``RUSAGE_CHILDREN``: dbt runs as a child of the step). Baselines run in the
same invocation on the same files, and the harness asserts that their numbers equal ours before it
reports a ratio.

Times. Whole-process steps (landing, ``dbt build``) are wall times including interpreter and
dbt start-up, because that is what a user waits for. Mart-against-engine comparisons time the
query alone on both sides: for a dbt model its node ``execution_time`` from ``run_results.json``
(dbt's own parsing excluded), for a funnel the funnel's compiled SQL run by DuckDB, for chdb the
``chdb.query`` call — each side after its imports, each side reading from storage. Those steps
also record CPU seconds (``time.process_time``, all threads): on a shared machine wall times swing
with the load, CPU ratios much less. The ordered funnel is compared twice: with chdb reading the
landed lake (the issue's baseline: JSON ``groups``, deduplication) and, as chdb's best case, one
Parquet file of ``fct_events``' five columns written for it.

Data: the seeded generator writes a base sample, our loader lands it, and DuckDB replicates the
landed events (new uuids, timestamps shifted by whole days) into PostHog batch-export NDJSON.gz
files until the requested size is reached. The benchmark then lands *those* files from scratch.
The increment (0.1 % of the events by default) is a sample of the last day's landed events with
new uuids, written the same way, landed and built with a plain (incremental) ``dbt build``.

Engine settings are deliberate: DuckDB gets ``memory_limit`` (default 3 GB: the buffer manager's
cap, leaving ~1 GiB of the 4 GiB RSS target to Python, dbt and the allocator) and ``threads``
(default 2, the machine's cores) through the dbt profile's ``GW_DUCKDB_*`` variables and in every
direct connection; chdb gets the same ``max_threads``.
"""

from __future__ import annotations

import json
import math
import os
import re
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
    # 1/10 of full (events, persons, groups): the flatness pair of the incremental run.
    "medium": BenchSize(
        events=1_000_000,
        companies_per_project=1_000,
        persons_per_project=10_000,
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

BENCH_START = date(2026, 1, 5)
"""First day of every benchmark dataset: fixed, and far enough back that no replicated copy lies
in the future (landing would treat future timestamps as clock skew and move them to now)."""

INCREMENT_FRACTION = 0.001
"""The incremental run adds this share of the dataset's events (the issue's 0.1 %)."""


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB's memory limit and threads (and chdb's threads), set deliberately for every step."""

    memory_limit: str = "3GB"
    threads: int = 2

    def env(self) -> dict[str, str]:
        """The dbt profile's variables (dbt_project/profiles.yml)."""
        return {"GW_DUCKDB_MEMORY_LIMIT": self.memory_limit, "GW_DUCKDB_THREADS": str(self.threads)}

    def duckdb_statements(self) -> list[str]:
        """The same settings for a direct DuckDB connection (plus the profile's UTC time zone)."""
        return [
            f"set memory_limit = '{self.memory_limit}'",
            f"set threads = {self.threads}",
            "set TimeZone = 'UTC'",
        ]


# Targets of issue 9 (ratios are ours / baseline; incremental is a share of the full build).
TARGETS: dict[str, tuple[str, float]] = {
    "land": ("≤ 1.3× DuckDB read_json", 1.3),
    "trend_mart_daily_active_groups": ("≤ 1.0× chdb uniqExact", 1.0),
    "funnel_ordered": ("≤ 1.0× chdb windowFunnel", 1.0),
    "dbt_build_incremental": ("≤ 5 % of the full build", 0.05),
}
PEAK_RSS_TARGET_MB = 4096.0
QUERY_P95_TARGET_MS = 50.0

STEP_NAMES = [
    "duckdb_read_json_to_parquet",
    "land",
    "raw_scan_landed",
    "dbt_build_full",
    "trend_mart_daily_active_groups",
    "chdb_uniqexact_daily_active_groups",
    "funnel_marts",
    "funnel_ordered",
    "chdb_windowfunnel_ordered",
    "chdb_windowfunnel_ordered_compact",
    "funnel_strict",
    "funnel_unordered",
    "land_increment",
    "dbt_build_incremental",
    "audit_and_publish",
]
"""Every step a run measures, in order (the smoke test checks the JSON has each)."""

STAGES = [
    "dataset",
    "baseline: DuckDB read_json → Parquet",
    "landing with gw land",
    "raw scan of the landed columns",
    "full dbt build",
    "trend mart vs chdb uniqExact",
    "funnel marts vs chdb windowFunnel",
    "increment: land + incremental dbt build",
    "audit and publish",
    "queries on the published marts",
]
"""What the progress display counts through (``progress`` is called once at the start of each)."""


@dataclass
class StepResult:
    """One measured step."""

    name: str
    seconds: float
    peak_rss_mb: float
    wall_seconds: float = 0.0
    cpu_seconds: float | None = None
    events: int | None = None
    baseline: str | None = None
    ratio: float | None = None
    cpu_ratio: float | None = None
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
    settings: dict[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    query_latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    incremental: dict[str, Any] = field(default_factory=dict)
    funnel_counts: dict[str, Any] = field(default_factory=dict)
    flatness: dict[str, Any] | None = None

    def step(self, name: str) -> StepResult:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    def targets(self) -> list[dict[str, Any]]:
        """Each target of the issue: what it asks, the measured value and whether it is met."""
        rows: list[dict[str, Any]] = []
        for name, (label, limit) in TARGETS.items():
            step = next((s for s in self.steps if s.name == name), None)
            if step is not None and step.ratio is not None:
                rows.append(
                    {
                        "target": f"{name} {label}",
                        "value": step.ratio,
                        "limit": limit,
                        "met": step.ratio <= limit,
                    }
                )
        peak = max((s.peak_rss_mb for s in self.steps if not math.isnan(s.peak_rss_mb)), default=0.0)
        rows.append(
            {
                "target": "peak RSS ≤ 4 GiB (MB)",
                "value": peak,
                "limit": PEAK_RSS_TARGET_MB,
                "met": peak <= PEAK_RSS_TARGET_MB,
            }
        )
        if self.query_latency_ms:
            worst = max(v["p95"] for v in self.query_latency_ms.values())
            rows.append(
                {
                    "target": "published-mart queries p95 ≤ 50 ms",
                    "value": worst,
                    "limit": QUERY_P95_TARGET_MS,
                    "met": worst <= QUERY_P95_TARGET_MS,
                }
            )
        if self.flatness is not None:
            # the models' own time when known: dbt's fixed start-up would make any build look flat
            ratio = self.flatness.get("models_time_ratio") or self.flatness["time_ratio"]
            rows.append(
                {
                    "target": "incremental flat at 10× history (models' time ratio ≤ 1.5)",
                    "value": ratio,
                    "limit": 1.5,
                    "met": ratio <= 1.5,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with derived events/s and the targets."""
        return {
            "size": self.size,
            "events": self.events,
            "started_at": self.started_at,
            "settings": self.settings,
            "steps": [asdict(s) | {"events_per_second": s.events_per_second} for s in self.steps],
            "query_latency_ms": self.query_latency_ms,
            "checks": self.checks,
            "incremental": self.incremental,
            "funnel_counts": self.funnel_counts,
            "flatness": self.flatness,
            "targets": self.targets(),
        }


def compare_flatness(this: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Incremental-build flatness between two runs' JSON (the larger history over the smaller)."""
    small, large = sorted([this, other], key=lambda r: int(r["incremental"]["history_events"]))
    history = int(large["incremental"]["history_events"]) / int(small["incremental"]["history_events"])
    return {
        "history_events": [small["incremental"]["history_events"], large["incremental"]["history_events"]],
        "increment_events": [
            small["incremental"]["increment_events"],
            large["incremental"]["increment_events"],
        ],
        "incremental_seconds": [small["incremental"]["seconds"], large["incremental"]["seconds"]],
        "history_ratio": history,
        "time_ratio": float(large["incremental"]["seconds"]) / float(small["incremental"]["seconds"]),
        # dbt's start-up, parsing and tests are the same at any size: the models' own time shows the growth
        "models_seconds": [
            small["incremental"].get("models_seconds"),
            large["incremental"].get("models_seconds"),
        ],
        "models_time_ratio": (
            float(large["incremental"]["models_seconds"]) / float(small["incremental"]["models_seconds"])
            if small["incremental"].get("models_seconds") and large["incremental"].get("models_seconds")
            else None
        ),
    }


# Appended to every step's code: its own peak RSS and optional results, to the file the runner reads.
_EPILOGUE = """

def _gw_bench_report():
    import json as _json, os as _os, resource as _resource
    own_kb = 0
    with open("/proc/self/status") as _status:
        for _line in _status:
            if _line.startswith("VmHWM:"):
                own_kb = int(_line.split()[1])
    children_kb = _resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss
    _result = globals().get("gw_result")
    with open(_os.environ["GW_BENCH_REPORT_FILE"], "w") as _out:
        _json.dump({"peak_kb": max(own_kb, children_kb), "result": _result}, _out, default=str)

_gw_bench_report()
"""


class _Runner:
    """Runs step code in subprocesses and keeps the child's own peak RSS.

    Step code may set ``gw_result`` (JSON-able; ``seconds`` in it replaces the wall time as the
    step's time when the step times its own query).
    """

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.env = env
        self.scratch = scratch

    def run(self, name: str, code: str, events: int | None = None) -> tuple[StepResult, Any]:
        report_file = self.scratch / f"step-{name}.json"
        report_file.unlink(missing_ok=True)
        env = self.env | {"GW_BENCH_REPORT_FILE": str(report_file)}
        # A script file, not ``python -c``: pyspark (imported by Great Expectations) takes a
        # ``__main__`` without ``__file__`` for its doctest runner and exits 0 on import.
        script = self.scratch / f"step-{name}.py"
        script.write_text(textwrap.dedent(code) + _EPILOGUE)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        out_chunks: list[str] = []
        err_chunks: list[str] = []
        readers = [
            threading.Thread(target=lambda s=process.stdout, sink=out_chunks: sink.append(s.read())),
            threading.Thread(target=lambda s=process.stderr, sink=err_chunks: sink.append(s.read())),
        ]
        for reader in readers:
            reader.start()
        returncode = process.wait()
        for reader in readers:
            reader.join()
        elapsed = time.perf_counter() - started
        if returncode != 0:
            raise RuntimeError(
                f"bench step {name} failed (exit {returncode}):\n{''.join(err_chunks)[-4000:]}"
            )
        reported = json.loads(report_file.read_text())
        result = reported["result"]
        seconds = elapsed
        cpu_seconds = None
        if isinstance(result, dict) and isinstance(result.get("seconds"), int | float):
            seconds = float(result["seconds"])
            cpu_seconds = result.get("cpu_seconds")
        step = StepResult(
            name=name,
            seconds=seconds,
            wall_seconds=elapsed,
            cpu_seconds=cpu_seconds,
            peak_rss_mb=reported["peak_kb"] / 1024.0,
            events=events,
        )
        return step, result


@dataclass(frozen=True)
class Dataset:
    """A generated benchmark inbox (kept between runs with ``--reuse-data``)."""

    inbox: Path
    events: int
    last_day: date
    size: str

    def marker(self) -> dict[str, Any]:
        return {"size": self.size, "events": self.events, "last_day": self.last_day.isoformat()}


def build_dataset(
    size_name: str, workdir: Path, progress: Callable[[str], None], *, reuse: bool = False
) -> Dataset:
    """Write the benchmark's inbox of NDJSON.gz export files (or reuse the one already there)."""
    import duckdb

    from gw.generator import GeneratorSettings, generate
    from loaders.land import land_inbox

    size = SIZES[size_name]
    marker_file = workdir / "dataset.json"
    inbox = workdir / "inbox"
    if reuse and marker_file.exists():
        marker = json.loads(marker_file.read_text())
        if marker.get("size") == size_name and any(inbox.glob("*.gz")):
            progress(f"reusing the {size_name} dataset in {inbox}")
            return Dataset(inbox, int(marker["events"]), date.fromisoformat(marker["last_day"]), size_name)
    marker_file.unlink(missing_ok=True)
    copies = max(1, math.ceil(size.events / size.base_events))
    days_per_copy = max(1, size.days // copies)
    shutil.rmtree(workdir / "base", ignore_errors=True)
    base_home = warehouse_paths(workdir / "base").ensure()
    base_home.projects_file.write_text(DEMO_PROJECTS_YAML)
    progress(f"dataset: generating a base sample of {size.base_events:,} events")
    settings = GeneratorSettings(
        events=size.base_events,
        groups=size.companies_per_project,
        persons=size.persons_per_project,
        days=days_per_copy,
        bad_files=False,
        file_events=5_000,
        seed=2026,
        start=BENCH_START,
    )
    sample = generate(base_home.inbox, settings)
    base_events = len(sample.events)
    del sample
    progress("dataset: landing the base sample")
    land_inbox(base_home, base_home.load_projects())
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    progress(f"dataset: replicating ×{copies} into NDJSON.gz exports")
    lake = base_home.lake / "events"
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
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
    shutil.rmtree(workdir / "base", ignore_errors=True)
    last_day = settings.start + timedelta(days=days_per_copy * copies - 1)
    dataset = Dataset(inbox, base_events * copies, last_day, size_name)
    marker_file.write_text(json.dumps(dataset.marker()))
    return dataset


def write_increment(lake: Path, target: Path, events: int, last_day: date, threads: int) -> int:
    """Write ``events`` new events (last day's landed events with new uuids) as one NDJSON.gz export.

    Returns how many were written (fewer only when the last day has fewer events).
    """
    import duckdb

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    since = (last_day - timedelta(days=1)).isoformat()
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        connection.execute(f"set threads = {threads}")
        connection.execute(
            f"""
            copy (
                select
                    cast(cast(md5(event_uuid || ':increment') as uuid) as varchar) as uuid,
                    event,
                    json_merge_patch(properties, json_object('$groups', json(groups))) as properties,
                    distinct_id,
                    strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%fZ') as timestamp,
                    project_id as team_id,
                    json(person_set) as "$set",
                    json(person_set_once) as "$set_once"
                from read_parquet('{lake}/events/**/*.parquet', hive_partitioning = true)
                where timestamp >= timestamp '{since}' and event <> '$groupidentify'
                order by hash(event_uuid)
                limit {events}
            ) to '{target}/increment.ndjson.gz' (format json, compression gzip)
            """
        )
        written = connection.execute(
            f"select count(*) from read_json('{target}/increment.ndjson.gz', format = 'newline_delimited')"
        ).fetchone()
    return int(written[0]) if written else 0


def _link_inbox(source: Path, inbox: Path) -> None:
    """Hard-link the dataset's files into a home's inbox (landing moves them to archive/)."""
    inbox.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.gz")):
        target = inbox / path.name
        if not target.exists():
            os.link(path, target)


def _dbt_step_code(home: Path, target: Path, command: list[str], run_date: date) -> str:
    """Step code: one dbt invocation (private target path); reports its node timings."""
    return f"""
        import json
        from pathlib import Path
        from gw.config import warehouse_paths
        from gw.dbt import run_dbt
        target = Path({str(target)!r})
        run_dbt(warehouse_paths({str(home)!r}), {command!r}, dbt_vars={{"run_date": {run_date.isoformat()!r}}},
                target_path=target)
        results = json.loads((target / "run_results.json").read_text())["results"]
        gw_result = {{"nodes": {{r["unique_id"]: r["execution_time"] for r in results}}}}
        """


def run_bench(
    size_name: str,
    workdir: Path,
    progress: Callable[[str], None] = print,
    *,
    engine: EngineSettings | None = None,
    increment_events: int | None = None,
    reuse_data: bool = False,
) -> BenchReport:
    """Build the dataset, then measure every step and baseline; returns the report."""
    from datetime import UTC, datetime

    import duckdb

    engine = engine or EngineSettings()
    workdir.mkdir(parents=True, exist_ok=True)
    progress(STAGES[0])
    dataset = build_dataset(size_name, workdir / "data", progress, reuse=reuse_data)
    events, last_day = dataset.events, dataset.last_day
    home = warehouse_paths(workdir / "home")
    shutil.rmtree(home.home, ignore_errors=True)
    home.ensure()
    home.projects_file.write_text(DEMO_PROJECTS_YAML)
    _link_inbox(dataset.inbox, home.inbox)
    target = workdir / "dbt-target"
    scratch = workdir / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = (
        dict(os.environ)
        | {
            "WAREHOUSE_HOME": str(home.home),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False",
        }
        | engine.env()
    )
    runner = _Runner(env, scratch)
    import chdb

    report = BenchReport(
        size=size_name,
        events=events,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        settings={
            "duckdb_memory_limit": engine.memory_limit,
            "duckdb_threads": engine.threads,
            "chdb_max_threads": engine.threads,
            "dbt_threads": 1,
            "cpu_count": os.cpu_count(),
            "duckdb_version": duckdb.__version__,
            "chdb_version": getattr(chdb, "__version__", "?"),
            "python": sys.version.split()[0],
            "last_day": last_day.isoformat(),
        },
    )
    files = sorted(str(p) for p in dataset.inbox.glob("*.gz"))
    setup = setup_lines(engine, indent=8)

    progress(STAGES[1])
    baseline, _ = runner.run(
        "duckdb_read_json_to_parquet",
        f"""
        import duckdb
        connection = duckdb.connect()
        {setup}
        connection.execute("set preserve_insertion_order = false")
        columns = {{"uuid": "VARCHAR", "event": "VARCHAR", "properties": "JSON", "distinct_id": "VARCHAR",
                   "timestamp": "TIMESTAMP", "team_id": "BIGINT", "$set": "JSON", "$set_once": "JSON"}}
        connection.execute(f\"\"\"copy (select * from read_json({files!r}, format = 'newline_delimited',
            columns = {{columns}})) to '{scratch}/baseline.parquet' (format parquet, compression zstd,
            compression_level 1)\"\"\")
        """,
        events=events,
    )
    report.steps.append(baseline)
    (scratch / "baseline.parquet").unlink(missing_ok=True)

    progress(STAGES[2])
    landing, _ = runner.run(
        "land",
        f"""
        from gw.config import warehouse_paths
        from loaders.land import land_inbox
        paths = warehouse_paths({str(home.home)!r})
        report = land_inbox(paths, paths.load_projects())
        assert report.events_landed == {events}, report.summary()
        """,
        events=events,
    )
    landing.baseline, landing.ratio = baseline.name, landing.seconds / baseline.seconds
    report.steps.append(landing)

    progress(STAGES[3])
    scan, scanned = runner.run(
        "raw_scan_landed",
        f"""
        import duckdb
        connection = duckdb.connect()
        {setup}
        gw_result = connection.execute(\"\"\"select count(*), count(distinct distinct_id), max(timestamp)
            from read_parquet('{home.lake}/events/**/*.parquet', hive_partitioning = true)\"\"\").fetchone()[0]
        """,
        events=events,
    )
    if int(scanned) != events:
        raise AssertionError(f"raw scan counted {scanned} events, expected {events}")
    report.steps.append(scan)

    progress(STAGES[4])
    full, full_nodes = runner.run(
        "dbt_build_full",
        _dbt_step_code(home.home, target, ["build", "--full-refresh"], last_day),
        events=events,
    )
    full.note = f"{len(full_nodes['nodes'])} nodes; {_execution_summary(full_nodes['nodes'])}"
    report.settings["full_build_models_seconds"] = _models_seconds(full_nodes["nodes"])
    report.steps.append(full)

    progress(STAGES[5])
    _trend_steps(runner, report, home, target, events, engine)

    progress(STAGES[6])
    _funnel_steps(runner, report, home, target, events, engine)
    # the marts read fact tables the full build made; say what those cost there
    upstream = {
        name: seconds
        for unique_id, seconds in full_nodes["nodes"].items()
        if (name := unique_id.removeprefix("model.group_warehouse.")) in {"fct_events", "fct_event_groups"}
    }
    if upstream:
        spent = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(upstream.items()))
        for name in ("trend_mart_daily_active_groups", "funnel_marts"):
            report.step(name).note += f" (reads fact tables built in dbt_build_full: {spent})"

    progress(STAGES[7])
    _incremental_steps(runner, report, home, target, last_day, events, engine, increment_events)

    progress(STAGES[8])
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

    progress(STAGES[9])
    report.query_latency_ms = published_query_latency(home)
    return report


_TREND_SQL = """
    select project_id, group_type_index, activity_date, active_groups
    from marts.fct_daily_active_groups where active_groups > 0
"""


def _trend_steps(
    runner: _Runner,
    report: BenchReport,
    home: WarehousePaths,
    target: Path,
    events: int,
    engine: EngineSettings,
) -> None:
    import duckdb

    ours, _ = runner.run(
        "trend_mart_daily_active_groups",
        _model_query_code(_compiled_model(target, "fct_daily_active_groups"), home, engine),
        events=events,
    )
    ours.note = "fct_daily_active_groups' compiled SQL, run by DuckDB"
    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        mapping = connection.execute(
            "select project_id, group_type, group_type_index from marts.dim_group_types"
        ).fetchall()
        timezones = connection.execute(
            "select project_id, project_timezone from staging.stg_lake__projects"
        ).fetchall()
        expected = sorted(tuple(row) for row in connection.execute(_TREND_SQL).fetchall())
    chdb, rows = runner.run(
        "chdb_uniqexact_daily_active_groups",
        f"""
        import json, time
        import chdb
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
            settings max_threads = {engine.threads}
        \"\"\"
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = chdb.query(query, "JSONCompact")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        gw_result = {{"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": json.loads(str(rows))["data"]}}
        """,
        events=events,
    )
    theirs = sorted((int(p), int(i), date.fromisoformat(str(d)), int(n)) for p, i, d, n in rows["rows"])
    if theirs != expected:
        raise AssertionError(
            "chdb's daily active groups differ from the mart's: the comparison would not be honest"
        )
    report.checks.append(f"chdb uniqExact daily active groups == mart ({len(expected)} rows)")
    _compare(ours, chdb)
    report.steps.extend([ours, chdb])


_FUNNEL_MODEL = "mart_insight_funnel_actors"


def _compiled_model(target: Path, model: str) -> str:
    """A model's SQL as the full build compiled it (in the run's private target path)."""
    found = next((target / "compiled").rglob(f"{model}.sql"), None)
    if found is None:
        raise FileNotFoundError(f"{model}: no compiled SQL under {target}/compiled (did the full build run?)")
    return found.read_text()


def _model_query_code(query: str, home: WarehousePaths, engine: EngineSettings) -> str:
    """Step code: run ``query`` (compiled SQL reading ``warehouse.…``) into a temp table; timed alone.

    The build file is attached read-only under its catalog name, with the profile's settings, so
    the query does what the model does inside ``dbt build`` — without dbt's start-up and parsing.
    """
    return f"""
        import time
        import duckdb
        connection = duckdb.connect()
        {setup_lines(engine, indent=8)}
        connection.execute("attach '{home.build_db}' as warehouse (read_only)")
        query = {query!r}
        started, cpu_started = time.perf_counter(), time.process_time()
        connection.execute("create temp table model_rows as " + query)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        rows = connection.execute("select count(*) from model_rows").fetchone()[0]
        gw_result = {{"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": rows}}
        """


def funnel_queries(compiled_sql: str) -> dict[str, str]:
    """Per declared funnel, a query computing just its actors, cut from the compiled actors mart.

    The mart's compiled SQL is ``with <imports>, insight_1_… , insight_N_final, unioned as (…) …``;
    each funnel's query keeps the CTEs up to ``unioned`` and selects its own ``insight_K_final``
    (DuckDB drops the CTEs a query does not read), so it does the same work as the mart does for it.
    """
    head, separator, _ = compiled_sql.partition("\nunioned as (")
    if not separator:
        raise ValueError(f"{_FUNNEL_MODEL}: no `unioned` CTE in the compiled SQL")
    head = head.rstrip().rstrip(",")
    queries = {}
    for number, insight_id in re.findall(
        r"insight_(\d+)_events as \(.*?insights\.insight_id = '([^']+)'", head, flags=re.DOTALL
    ):
        queries[insight_id] = f"{head}\nselect * from insight_{number}_final"
    return queries


def _funnel_definitions(home: WarehousePaths) -> dict[str, dict[str, Any]]:
    import duckdb

    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        rows = connection.execute(
            "select distinct insight_id, definition from marts.mart_insights where insight_kind = 'FunnelsQuery'"
        ).fetchall()
    return {str(i): json.loads(d) for i, d in rows}


def _pick_funnel(definitions: dict[str, dict[str, Any]], order: str) -> str | None:
    """The first plain funnel (no breakdown, no exclusions, no filters) of an order type."""
    for insight_id, definition in sorted(definitions.items()):
        funnel = definition["funnel"]
        if (
            funnel["order"] == order
            and definition["breakdown"] is None
            and not funnel["exclusions"]
            and not definition["properties"]
            and definition["aggregation_group_type_index"] is not None
            and all(not s["properties"] and s["event"] for s in definition["series"])
        ):
            return insight_id
    return None


_WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2678400}


def _funnel_steps(
    runner: _Runner,
    report: BenchReport,
    home: WarehousePaths,
    target: Path,
    events: int,
    engine: EngineSettings,
) -> None:
    import duckdb

    compiled = _compiled_model(target, _FUNNEL_MODEL)
    marts, _ = runner.run("funnel_marts", _model_query_code(compiled, home, engine), events=events)
    definitions = _funnel_definitions(home)
    marts.note = f"{_FUNNEL_MODEL}: all {len(definitions)} declared funnels' compiled SQL, run by DuckDB"
    report.steps.append(marts)

    queries = funnel_queries(compiled)
    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        mart_counts = connection.execute(
            """select insight_id, project_id, step_number, actor_count
            from marts.mart_insight_funnel_steps where breakdown_value is null"""
        ).fetchall()
        type_of_index = connection.execute(
            "select project_id, group_type_index, group_type from marts.dim_group_types"
        ).fetchall()
        ranges = connection.execute(
            """select insight_id, project_id, epoch_us(date_from_at), epoch_us(date_to_at)
            from marts.mart_insights where insight_kind = 'FunnelsQuery'"""
        ).fetchall()

    for order in ("ordered", "strict", "unordered"):
        insight_id = _pick_funnel(definitions, order)
        if insight_id is None or insight_id not in queries:
            report.checks.append(f"no plain {order} funnel declared: funnel_{order} not measured")
            continue
        ours, counted = runner.run(
            f"funnel_{order}",
            f"""
            import time
            import duckdb
            connection = duckdb.connect()
            {setup_lines(engine)}
            connection.execute("attach '{home.build_db}' as warehouse (read_only)")
            query = {queries[insight_id]!r}
            started, cpu_started = time.perf_counter(), time.process_time()
            connection.execute("create temp table funnel_actors as " + query)
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            counts = connection.execute(
                "select project_id, furthest_step, count(*) from funnel_actors group by all"
            ).fetchall()
            gw_result = {{"seconds": seconds, "cpu_seconds": cpu_seconds, "counts": counts}}
            """,
            events=events,
        )
        ours.note = insight_id
        definition = definitions[insight_id]
        steps = len(definition["series"])
        reached = _reached_per_step(counted["counts"], steps)
        in_mart = {(int(p), int(s)): int(n) for i, p, s, n in mart_counts if i == insight_id}
        if reached != {k: v for k, v in in_mart.items() if v}:
            raise AssertionError(
                f"{insight_id}: the funnel's own query and the mart disagree: {reached} vs {in_mart}"
            )
        report.funnel_counts[insight_id] = {f"{p}:{s}": n for (p, s), n in sorted(in_mart.items())}
        report.steps.append(ours)
        if order != "ordered":
            continue
        window_us = (
            definition["funnel"]["window_interval"]
            * _WINDOW_SECONDS[definition["funnel"]["window_unit"]]
            * 1_000_000
        )
        index = int(definition["aggregation_group_type_index"])
        projects = {
            int(p): (str(t), int(f), int(to))
            for i, p, f, to in ranges
            if i == insight_id
            for pp, gi, t in type_of_index
            if pp == p and gi == index
        }
        theirs_step, theirs = runner.run(
            "chdb_windowfunnel_ordered",
            _chdb_funnel_code(home, definition, projects, window_us, engine),
            events=events,
        )
        theirs_step.note = f"{insight_id}: windowFunnel({window_us // 1_000_000} s) on the landed Parquet"
        theirs_reached = _reached_per_step(theirs["counts"], steps)
        ours_nonzero = {k: v for k, v in reached.items() if v}
        if theirs_reached != ours_nonzero:
            raise AssertionError(
                f"chdb's windowFunnel counts differ from the mart's for {insight_id}: {theirs_reached} vs {ours_nonzero}"
            )
        report.checks.append(
            f"chdb windowFunnel per-step counts == mart_insight_funnel_steps for {insight_id} "
            f"({', '.join(f'p{p} step {s}: {n}' for (p, s), n in sorted(ours_nonzero.items()))})"
        )
        _compare(ours, theirs_step)
        report.steps.append(theirs_step)
        compact_step, compact = runner.run(
            "chdb_windowfunnel_ordered_compact",
            _chdb_compact_funnel_code(home, runner.scratch, definition, projects, window_us, engine),
            events=events,
        )
        if _reached_per_step(compact["counts"], steps) != ours_nonzero:
            raise AssertionError(
                f"chdb's windowFunnel on the compact Parquet differs from the mart for {insight_id}"
            )
        compact_step.note = (
            f"same, on one Parquet file of fct_events' 5 columns (written untimed); "
            f"funnel_ordered / this: {ours.seconds / compact_step.seconds:.2f}× wall"
            + (
                f", {ours.cpu_seconds / compact_step.cpu_seconds:.2f}× CPU"
                if ours.cpu_seconds and compact_step.cpu_seconds
                else ""
            )
        )
        report.steps.append(compact_step)


def _compare(ours: StepResult, theirs: StepResult) -> None:
    """Set ``ours``' baseline and ratios (wall time; CPU time too when both steps measured it)."""
    ours.baseline, ours.ratio = theirs.name, ours.seconds / theirs.seconds
    if ours.cpu_seconds and theirs.cpu_seconds:
        ours.cpu_ratio = ours.cpu_seconds / theirs.cpu_seconds


def setup_lines(engine: EngineSettings, indent: int = 12) -> str:
    """Step code lines applying the engine settings to ``connection`` (``indent``: the step body's)."""
    return ("\n" + " " * indent).join(f"connection.execute({s!r})" for s in engine.duckdb_statements())


def _reached_per_step(counts: list[list[int]], steps: int) -> dict[tuple[int, int], int]:
    """{(project, step): actors whose furthest step is ≥ step} from (project, furthest, actors) rows."""
    reached: dict[tuple[int, int], int] = {}
    for project, furthest, actors in counts:
        for step in range(1, min(int(furthest), steps) + 1):
            key = (int(project), step)
            reached[key] = reached.get(key, 0) + int(actors)
    return reached


def _chdb_funnel_code(
    home: WarehousePaths,
    definition: dict[str, Any],
    projects: dict[int, tuple[str, int, int]],
    window_us: int,
    engine: EngineSettings,
) -> str:
    """Step code: the same ordered funnel with ClickHouse's windowFunnel on the landed Parquet."""
    group_type = (
        "multiIf(" + ", ".join(f"project_id = {p}, '{t}'" for p, (t, _, _) in projects.items()) + ", '')"
    )
    rows = f"""
                    select project_id, toUInt64(toUnixTimestamp64Micro(timestamp)) as ts, event,
                        JSONExtractString(groups, {group_type}) as group_key
                    from file('{home.lake}/events/**/*.parquet', Parquet)
                    where event in ({{event_list}})
                    limit 1 by project_id, event_uuid
                    settings use_hive_partitioning = 1"""
    return _chdb_window_funnel_script(rows, "group_key != '' and ", definition, projects, window_us, engine)


def _chdb_compact_funnel_code(
    home: WarehousePaths,
    scratch: Path,
    definition: dict[str, Any],
    projects: dict[int, tuple[str, int, int]],
    window_us: int,
    engine: EngineSettings,
) -> str:
    """Step code: the same windowFunnel on one Parquet file of fct_events' columns (chdb's best case).

    The file (``project_id, event_uuid, event, timestamp, group_key``; the funnel's group type) is
    written by DuckDB from the build file before the timed query; it is deduplicated already.
    """
    import duckdb

    index = int(definition["aggregation_group_type_index"])
    compact = scratch / "fct_events_compact.parquet"
    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        connection.execute(
            f"""copy (select project_id, event_uuid, event, timestamp, group_{index} as group_key
            from marts.fct_events) to '{compact}' (format parquet, compression zstd)"""
        )
    rows = f"""
                    select project_id, group_key, event, toUInt64(toUnixTimestamp64Micro(timestamp)) as ts
                    from file('{compact}', Parquet)
                    where event in ({{event_list}}) and group_key != ''"""
    return _chdb_window_funnel_script(rows, "", definition, projects, window_us, engine)


def _chdb_window_funnel_script(
    rows: str,
    key_filter: str,
    definition: dict[str, Any],
    projects: dict[int, tuple[str, int, int]],
    window_us: int,
    engine: EngineSettings,
) -> str:
    """The timed chdb script: windowFunnel per (project, group) over ``rows`` (a select giving
    ``project_id, group_key, event, ts``; ``{event_list}`` in it becomes the funnel's events), then
    actors per furthest level; ``key_filter`` is prepended to the date-range filter."""
    events = [s["event"] for s in definition["series"]]
    conditions = ", ".join(f"event = '{e}'" for e in events)
    rows = rows.replace("{event_list}", ", ".join(f"'{e}'" for e in events))
    in_range = (
        " or ".join(
            f"(project_id = {p} and ts >= {start} and ts <= {end})" for p, (_, start, end) in projects.items()
        )
        or "false"
    )
    return f"""
        import json, time
        import chdb
        query = \"\"\"
            select project_id, level, count() as actors
            from (
                select project_id, group_key, windowFunnel({window_us})(ts, {conditions}) as level
                from ({rows}
                )
                where {key_filter}({in_range})
                group by project_id, group_key
            )
            where level > 0
            group by project_id, level
            settings max_threads = {engine.threads}
        \"\"\"
        started, cpu_started = time.perf_counter(), time.process_time()
        result = chdb.query(query, "JSONCompact")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        gw_result = {{"seconds": seconds, "cpu_seconds": cpu_seconds, "counts": json.loads(str(result))["data"]}}
        """


def _incremental_steps(
    runner: _Runner,
    report: BenchReport,
    home: WarehousePaths,
    target: Path,
    last_day: date,
    events: int,
    engine: EngineSettings,
    increment_events: int | None,
) -> None:
    wanted = increment_events or max(1, round(events * INCREMENT_FRACTION))
    increment_inbox = home.home.parent / "increment"
    written = write_increment(home.lake, increment_inbox, wanted, last_day, engine.threads)
    landed, _ = runner.run(
        "land_increment",
        f"""
        from pathlib import Path
        from gw.config import warehouse_paths
        from loaders.land import land_inbox
        paths = warehouse_paths({str(home.home)!r})
        report = land_inbox(paths, paths.load_projects(), inbox=Path({str(increment_inbox)!r}))
        assert report.events_landed == {written}, report.summary()
        """,
        events=written,
    )
    report.steps.append(landed)
    build, nodes = runner.run(
        "dbt_build_incremental", _dbt_step_code(home.home, target, ["build"], last_day), events=written
    )
    full = report.step("dbt_build_full")
    build.baseline, build.ratio = full.name, build.seconds / full.seconds
    build.note = f"+{written:,} events; {_execution_summary(nodes['nodes'])}"
    report.steps.append(build)
    slowest = sorted(nodes["nodes"].items(), key=lambda item: -item[1])[:8]
    report.incremental = {
        "history_events": events,
        "increment_events": written,
        "seconds": build.seconds,
        "share_of_full_build": build.ratio,
        "models_seconds": _models_seconds(nodes["nodes"]),
        "full_build_models_seconds": report.settings.get("full_build_models_seconds"),
        "slowest_nodes": dict(slowest),
    }


def _models_seconds(nodes: dict[str, float]) -> float:
    """Execution time of the models alone (no tests, unit tests or seeds)."""
    return sum(seconds for unique_id, seconds in nodes.items() if unique_id.startswith("model."))


def _execution_summary(nodes: dict[str, float]) -> str:
    return f"node execution {sum(nodes.values()):.1f} s, of which models {_models_seconds(nodes):.1f} s"


PUBLISHED_QUERIES = {
    "active companies per day": "select activity_date, active_groups from marts.fct_daily_active_groups "
    "where project_id = 1 and group_type_index = 0 order by activity_date",
    "top groups by events": "select group_key, display_name, event_count from marts.dim_groups "
    "where project_id = 1 and group_type_index = 0 order by event_count desc limit 20",
    "one group's events per day": "select event_date, count(*) from marts.fct_events where project_id = 1 and "
    "group_0 = (select group_key from marts.dim_groups where project_id = 1 and group_type_index = 0 "
    "order by event_count desc limit 1) group by 1 order by 1",
    "funnel steps": "select step_number, actor_count, conversion_rate_from_first from marts.mart_insight_funnel_steps "
    "where insight_id = 'company_signup_to_paid' and project_id = 1 order by step_number",
    "companies that dropped off at step 2": "select actor_id, first_step_at from marts.mart_insight_funnel_actors "
    "where insight_id = 'company_signup_to_paid' and project_id = 1 and dropped_off_at_step = 2 limit 100",
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
