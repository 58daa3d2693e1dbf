"""The semantic layer's metrics, asked through MetricFlow's own ``mf query``, equal the marts.

One real small warehouse: the seeded generator's capture files landed as in production, the marts
the metrics read built by dbt (with three declared insights: PostHog's weekly and monthly active
companies and a company funnel), then ``mf query`` in the private MetricFlow folder that
``gw metrics`` uses. Every metric is compared with the mart it must equal, row for row.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from gw.config import WarehousePaths, warehouse_paths
from gw.dbt import run_dbt
from gw.generator import GeneratorSettings, generate
from gw.insights.compile import compile_definitions
from gw.metrics import metricflow_dir, query, write_snapshot
from gw.pipeline import land
from gw.publish import publish

pytestmark = pytest.mark.integration

SETTINGS = GeneratorSettings(events=1_500, groups=5, persons=20, days=12, seed=11)
START = SETTINGS.start
END = date.fromordinal(START.toordinal() + SETTINGS.days - 1)
RANGE = {"date_from": START.isoformat(), "date_to": END.isoformat()}
INSIGHTS: dict[str, dict[str, Any]] = {
    "sem_weekly_active_companies": {
        "kind": "TrendsQuery",
        "series": [
            {"kind": "EventsNode", "event": None, "math": "weekly_active", "math_group_type_index": 0}
        ],
        "interval": "day",
        "dateRange": RANGE,
    },
    "sem_monthly_active_companies": {
        "kind": "TrendsQuery",
        "series": [
            {"kind": "EventsNode", "event": None, "math": "monthly_active", "math_group_type_index": 0}
        ],
        "interval": "day",
        "dateRange": RANGE,
    },
    "sem_company_funnel": {
        "kind": "FunnelsQuery",
        "aggregation_group_type_index": 0,
        "series": [
            {"kind": "EventsNode", "event": "signed_up"},
            {"kind": "EventsNode", "event": "project_created"},
            {"kind": "EventsNode", "event": "insight_viewed"},
        ],
        "funnelsFilter": {"funnelWindowInterval": 14, "funnelWindowIntervalUnit": "day"},
        "dateRange": RANGE,
    },
    "sem_person_funnel": {
        "kind": "FunnelsQuery",
        "series": [
            {"kind": "EventsNode", "event": "signed_up"},
            {"kind": "EventsNode", "event": "insight_viewed"},
        ],
        "dateRange": RANGE,
    },
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> WarehousePaths:
    paths = warehouse_paths(tmp_path_factory.mktemp("semantic-layer")).ensure()
    paths.write_demo_projects()
    generate(paths.inbox, SETTINGS)
    land(paths)
    folder = paths.home / "insights"
    folder.mkdir()
    for insight_id, document in INSIGHTS.items():
        (folder / f"{insight_id}.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    dbt_vars = {"run_date": END.isoformat(), "gw_insight_definitions": compile_definitions(folder)}
    target = paths.home / "dbt-target"
    selection = ["+fct_daily_active_groups", "+path:models/semantic", "+path:models/marts/insights"]
    run_dbt(
        paths,
        ["build", "--select", *selection, "--resource-type", "model", "--resource-type", "seed"],
        dbt_vars=dbt_vars,
        target_path=target,
    )
    run_dbt(paths, ["test", "--select", "path:models/semantic"], dbt_vars=dbt_vars, target_path=target)
    return paths


def _rows(paths: WarehousePaths, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(paths.build_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _day(text: str) -> date:
    return datetime.fromisoformat(text).date()


def test_daily_active_groups_and_their_events_equal_fct_daily_active_groups(
    warehouse: WarehousePaths,
) -> None:
    answered = query(
        warehouse,
        ["active_groups", "group_events", "events_per_active_group"],
        ["metric_time__day", "group_day__project_id", "group_day__group_type_index"],
        database=warehouse.build_db,
    )
    got = {
        (
            _day(r["metric_time__day"]),
            int(r["group_day__project_id"]),
            int(r["group_day__group_type_index"]),
        ): (
            int(r["active_groups"]),
            int(r["group_events"]),
            float(r["events_per_active_group"]),
        )
        for r in answered
    }
    mart = _rows(
        warehouse,
        "select activity_date, project_id, group_type_index, active_groups, events "
        "from marts.fct_daily_active_groups where active_groups > 0",
    )
    expected = {(d, p, i): (a, e, e / a) for d, p, i, a, e in mart}
    assert len(expected) > 20
    assert got.keys() == expected.keys()
    for key, (active, events, ratio) in expected.items():
        assert got[key][:2] == (active, events), key
        assert got[key][2] == pytest.approx(ratio, rel=1e-12), key


def _trend(paths: WarehousePaths, insight_id: str) -> dict[tuple[date, int], int]:
    rows = _rows(
        paths,
        "select cast(interval_start as date), project_id, value from marts.mart_insight_trends "
        f"where insight_id = '{insight_id}'",
    )
    return {(day, project): int(value) for day, project, value in rows if value}


def test_weekly_and_monthly_active_groups_equal_posthogs_trailing_windows(warehouse: WarehousePaths) -> None:
    answered = query(
        warehouse,
        ["active_groups", "weekly_active_groups", "monthly_active_groups"],
        ["metric_time__day", "group_day__project_id"],
        where=["{{ Dimension('group_day__group_type_index') }} = 0"],
        database=warehouse.build_db,
    )
    in_range = [r for r in answered if START <= _day(r["metric_time__day"]) <= END]
    for metric, insight_id in (
        ("weekly_active_groups", "sem_weekly_active_companies"),
        ("monthly_active_groups", "sem_monthly_active_companies"),
    ):
        got = {
            (_day(r["metric_time__day"]), int(r["group_day__project_id"])): int(r[metric])
            for r in in_range
            if r[metric]
        }
        expected = _trend(warehouse, insight_id)
        assert len(expected) >= 2 * SETTINGS.days - 2, insight_id
        assert got == expected, metric
    # the windows are trailing windows: never below the day's own count, above it on some day
    daily = [(int(r["active_groups"] or 0), int(r["weekly_active_groups"])) for r in in_range]
    assert all(week >= day for day, week in daily)
    assert any(week > day for day, week in daily)


def test_new_groups_count_dim_groups_by_their_local_creation_day(warehouse: WarehousePaths) -> None:
    answered = query(
        warehouse,
        ["new_groups"],
        ["metric_time__day", "group__project_id", "group__group_type_index"],
        database=warehouse.build_db,
    )
    got = {
        (_day(r["metric_time__day"]), int(r["group__project_id"]), int(r["group__group_type_index"])): int(
            r["new_groups"]
        )
        for r in answered
    }
    zones = {project.id: ZoneInfo(project.timezone) for project in warehouse.load_projects().projects}
    expected = Counter(
        (created_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zones[project]).date(), project, index)
        for project, index, created_at in _rows(
            warehouse, "select project_id, group_type_index, created_at from marts.dim_groups"
        )
    )
    assert sum(expected.values()) > 20
    assert got == dict(expected)


def test_funnel_conversion_equals_the_last_steps_conversion_in_mart_insight_funnel_steps(
    warehouse: WarehousePaths,
) -> None:
    answered = query(
        warehouse,
        ["funnel_entered", "funnel_converted", "funnel_conversion_rate"],
        ["funnel_actor__insight_id", "funnel_actor__project_id"],
        database=warehouse.build_db,
    )
    got = {
        (r["funnel_actor__insight_id"], int(r["funnel_actor__project_id"])): (
            int(r["funnel_entered"]),
            float(r["funnel_conversion_rate"]),
        )
        for r in answered
    }
    steps = _rows(
        warehouse,
        "select insight_id, project_id, step_number, step_count, actor_count, conversion_rate_from_first "
        "from marts.mart_insight_funnel_steps where insight_id like 'sem_%'",
    )
    entered = {(i, p): n for i, p, step, _, n, _ in steps if step == 1 and n}
    converted = {(i, p): rate for i, p, step, count, _, rate in steps if step == count and (i, p) in entered}
    assert {insight for insight, _ in entered} == {"sem_company_funnel", "sem_person_funnel"}
    assert got.keys() == entered.keys()
    for key, actors in entered.items():
        assert got[key][0] == actors, key
        assert got[key][1] == pytest.approx(converted[key], rel=1e-12), key
    assert any(0 < rate < 1 for _, rate in got.values())  # a funnel where some actors dropped off


@pytest.fixture(scope="module")
def published(warehouse: WarehousePaths) -> WarehousePaths:
    publish(warehouse)
    return warehouse


def test_gw_metrics_answers_from_the_published_file(published: WarehousePaths) -> None:
    warehouse = published
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("gw")),
            "metrics",
            "new_groups",
            "--group-by",
            "metric_time__year",
            "--home",
            str(warehouse.home),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (total,) = _rows(warehouse, "select count(*) from marts.dim_groups")[0]
    assert re.search(rf"^{START.year}-01-01T00:00:00\s+{total}\s*$", completed.stdout, re.MULTILINE), (
        completed.stdout
    )
    profile = (metricflow_dir(warehouse) / "profiles.yml").read_text()
    assert str(warehouse.published_db) in profile and "READ_ONLY" in profile


def test_the_metrics_snapshot_holds_the_headline_metrics_of_the_published_marts(
    published: WarehousePaths,
) -> None:
    files = write_snapshot(published)
    assert set(files) == {"groups_daily.csv", "funnels.csv"}
    with files["groups_daily.csv"].open(newline="") as handle:
        daily = list(csv.DictReader(handle))
    got = {
        (_day(r["metric_time__day"]), int(r["group__project_id"]), r["group__group_type"]): int(
            r["active_groups"]
        )
        for r in daily
        if r["active_groups"]
    }
    mart = _rows(
        published,
        "select activity_date, project_id, group_type, active_groups from marts.fct_daily_active_groups "
        "where active_groups > 0",
    )
    assert got == {(d, p, t): a for d, p, t, a in mart}
    with files["funnels.csv"].open(newline="") as handle:
        funnels = {
            (r["funnel_actor__insight_id"], int(r["funnel_actor__project_id"]))
            for r in csv.DictReader(handle)
        }
    assert {"sem_company_funnel", "sem_person_funnel"} <= {insight for insight, _ in funnels}
