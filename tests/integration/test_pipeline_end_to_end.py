"""The real DAG, end to end: generated capture files → Airflow (land, Cosmos dbt, GX, publish).

Airflow runs the DAG with ``dag.test()``; dbt builds a real DuckDB file; GX audits it. The
published marts are compared with the independent Python oracle over the generator's events.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import duckdb
import pytest

from gw.config import WarehousePaths, warehouse_paths
from gw.generator import GeneratedSample, GeneratorSettings, generate
from tests.oracle import (
    current_group_properties,
    daily_active_groups,
    events_per_group,
    group_type_mapping,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class PipelineRun:
    paths: WarehousePaths
    sample: GeneratedSample
    state: str


def _run_dag(logical_day: datetime, mark_success_pattern: str | None = None) -> str:
    from airflow.dag_processing.dagbag import DagBag

    from gw.airflow_local import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags["gw_pipeline"]
    run = dag.test(logical_date=logical_day, mark_success_pattern=mark_success_pattern)
    return str(run.state)


@pytest.fixture(scope="module")
def pipeline_run(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    from gw.dbt import ensure_manifest

    paths = warehouse_paths(tmp_path_factory.mktemp("home")).ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, GeneratorSettings(events=3_000, groups=8, persons=40, days=10, seed=7))
    ensure_manifest(paths)
    previous = os.environ.get("WAREHOUSE_HOME")
    os.environ["WAREHOUSE_HOME"] = str(paths.home)
    try:
        state = _run_dag(datetime.combine(sample.end_date(), time(0), tzinfo=UTC))
        yield PipelineRun(paths=paths, sample=sample, state=state)
    finally:
        if previous is None:
            os.environ.pop("WAREHOUSE_HOME", None)
        else:
            os.environ["WAREHOUSE_HOME"] = previous


def _published(run: PipelineRun) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(run.paths.published_db), read_only=True)


def test_the_dag_run_succeeds_and_publishes(pipeline_run: PipelineRun) -> None:
    assert pipeline_run.state == "success"
    assert pipeline_run.paths.published_db.exists()
    with _published(pipeline_run) as published:
        tables = {row[0] for row in published.execute("select table_name from duckdb_tables()").fetchall()}
    assert {"dim_groups", "dim_group_types", "fct_events", "fct_daily_active_groups"} <= tables


def test_every_good_event_lands_once(pipeline_run: PipelineRun) -> None:
    with _published(pipeline_run) as published:
        rows = published.execute("select project_id, event_uuid from marts.fct_events").fetchall()
    assert len(rows) == len(set(rows))
    assert {(p, u) for p, u in rows} == {(e.project_id, e.uuid) for e in pipeline_run.sample.events}


def test_timestamps_equal_the_corrected_truth(pipeline_run: PipelineRun) -> None:
    with _published(pipeline_run) as published:
        stored = dict(published.execute("select event_uuid, timestamp from marts.fct_events").fetchall())
    truth = {e.uuid: e.timestamp.astimezone(UTC).replace(tzinfo=None) for e in pipeline_run.sample.events}
    assert stored == truth


def test_quarantine_counts_match_the_generated_bad_input(pipeline_run: PipelineRun) -> None:
    quarantine = pipeline_run.paths.quarantine / "events"
    with duckdb.connect() as connection:
        counted = dict(
            connection.execute(
                f"select reason, count(*) from read_parquet('{quarantine}/**/*.parquet') group by reason"
            ).fetchall()
        )
    assert counted == pipeline_run.sample.quarantined


def test_group_type_mapping_matches_the_oracle(pipeline_run: PipelineRun) -> None:
    with _published(pipeline_run) as published:
        mapping = {
            (p, t): i
            for p, t, i in published.execute(
                "select project_id, group_type, group_type_index from marts.dim_group_types"
            ).fetchall()
        }
        violations = published.execute(
            "select project_id, group_type from marts.fct_group_type_limit_violations"
        ).fetchall()
    assert mapping == group_type_mapping(pipeline_run.sample)
    assert violations == [(2, "channel")]


def test_daily_active_groups_match_the_oracle(pipeline_run: PipelineRun) -> None:
    projects = pipeline_run.paths.load_projects()
    with _published(pipeline_run) as published:
        rows = published.execute(
            "select project_id, group_type_index, activity_date, active_groups "
            "from marts.fct_daily_active_groups where active_groups > 0"
        ).fetchall()
    assert {(p, i, d): n for p, i, d, n in rows} == daily_active_groups(pipeline_run.sample, projects)


def test_events_per_group_match_the_oracle(pipeline_run: PipelineRun) -> None:
    with _published(pipeline_run) as published:
        rows = published.execute(
            "select project_id, group_type_index, group_key, event_count from marts.dim_groups where event_count > 0"
        ).fetchall()
    assert {(p, i, k): n for p, i, k, n in rows} == events_per_group(pipeline_run.sample)


def test_current_group_properties_match_the_oracle(pipeline_run: PipelineRun) -> None:
    import json

    with _published(pipeline_run) as published:
        rows = published.execute(
            "select project_id, group_type, group_key, properties from marts.dim_groups where has_properties"
        ).fetchall()
    mapping = group_type_mapping(pipeline_run.sample)
    expected = {
        key: props
        for key, props in current_group_properties(pipeline_run.sample).items()
        if (key[0], key[1]) in mapping and props
    }
    assert {(p, t, k): json.loads(props) for p, t, k, props in rows} == expected


def test_demo_summary_prints_the_oracle_numbers(pipeline_run: PipelineRun) -> None:
    from gw.pipeline import summarize

    summary = summarize(pipeline_run.paths)
    mapping = group_type_mapping(pipeline_run.sample)
    index_to_type = {(p, i): t for (p, t), i in mapping.items()}
    expected = {
        (p, index_to_type[(p, i)], d): n
        for (p, i, d), n in daily_active_groups(
            pipeline_run.sample, pipeline_run.paths.load_projects()
        ).items()
    }
    assert {k: v for k, v in summary.daily_active_groups.items() if v > 0} == expected
    assert summary.published_db == pipeline_run.paths.published_db


def test_a_rerun_lands_nothing_new_and_changes_no_mart(pipeline_run: PipelineRun) -> None:
    def digest() -> str:
        with _published(pipeline_run) as published:
            rows = published.execute(
                "select event_uuid, group_0, group_1, group_2, timestamp from marts.fct_events order by 1"
            ).fetchall()
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    before = digest()
    generate(pipeline_run.paths.inbox, pipeline_run.sample.settings)  # the same bytes delivered again
    os.environ["WAREHOUSE_HOME"] = str(pipeline_run.paths.home)
    state = _run_dag(datetime.combine(pipeline_run.sample.end_date(), time(1), tzinfo=UTC))
    assert state == "success"
    assert digest() == before


def test_a_failing_audit_blocks_the_publish_and_keeps_the_last_one(pipeline_run: PipelineRun) -> None:
    paths = pipeline_run.paths
    published_bytes = paths.published_db.read_bytes()
    with duckdb.connect(str(paths.build_db)) as build:
        build.execute(
            "insert into marts.dim_group_types (project_id, group_type_index, group_type) values (1, 7, 'rogue')"
        )
    os.environ["WAREHOUSE_HOME"] = str(paths.home)
    # Land and dbt are marked successful without running, so the audit sees the corrupted build.
    state = _run_dag(
        datetime.combine(pipeline_run.sample.end_date(), time(2), tzinfo=UTC),
        mark_success_pattern=r"^(land_inbox|dbt_build\..*)$",
    )
    assert state == "failed"
    assert paths.published_db.read_bytes() == published_bytes
    with _published(pipeline_run) as published:
        assert published.execute(
            "select count(*) from marts.dim_group_types where group_type = 'rogue'"
        ).fetchone() == (0,)
