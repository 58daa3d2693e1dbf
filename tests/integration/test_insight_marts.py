"""The insight marts against the plain-Python oracle (tests/oracle/insights.py).

Three worlds, each built with one dbt run of the insight marts:

* hand-written events at the edges that matter — DST changes in Berlin, New York and Sydney,
  midnight, week and month boundaries, the last microsecond of date_to, empty group keys, a
  person profile switched off — with every case of :mod:`tests.integration.insight_cases` (every
  math, interval, operator, breakdown, stickiness, lifecycle and retention variant), plus the
  marts' dbt tests (grains);
* hypothesis-generated event sets, four projects in four time zones per example;
* a sample of the seeded generator with the example insights shipped in dbt_project/insights.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gw.config import WarehousePaths
from gw.generator import TruthEvent
from tests.integration.insight_cases import (
    ALL_INSIGHTS,
    LIFECYCLE,
    RETENTION,
    RUN_DATE,
    STICKINESS,
    TIMEZONES,
    TRENDS,
)
from tests.integration.insight_harness import (
    EventLog,
    Marts,
    build_insight_marts,
    insight_mart_digests,
    write_lake,
)
from tests.oracle.insight_world import world_from_truth
from tests.oracle.insights import (
    BREAKDOWN_NULL,
    OracleWorld,
    lifecycle,
    query_of,
    retention,
    stickiness,
    trends,
    with_group_property_mode,
)

pytestmark = pytest.mark.integration

#: The kinds this module checks (funnels have their own oracle tests).
KINDS_WITH_MARTS_HERE = ("TrendsQuery", "StickinessQuery", "LifecycleQuery", "RetentionQuery")


# ------------------------------------------------------------------------------------------------
# Comparing marts and oracle
# ------------------------------------------------------------------------------------------------
def check_insight(
    marts: Marts, world: OracleWorld, insight_id: str, document: dict[str, Any], project_id: int
) -> None:
    """Assert that every mart of one insight and project equals the oracle's answer."""
    query = query_of(document)
    world = with_group_property_mode(world, document)
    kind = query["kind"]
    where = f"{insight_id}, project {project_id}"
    if kind == "TrendsQuery":
        expected = trends(world, query, project_id)
        starts, lines = marts.trends(insight_id, project_id)
        assert starts == expected.starts, f"{where}: intervals"
        assert lines == expected.lines, f"{where}: points"
        assert marts.trend_actors(insight_id, project_id) == expected.actors, f"{where}: actors"
    elif kind == "StickinessQuery":
        expected_stickiness = stickiness(world, query, project_id)
        counts, actors = marts.stickiness(insight_id, project_id)
        assert counts == expected_stickiness.counts, f"{where}: counts"
        assert actors == {k: v for k, v in expected_stickiness.actors.items() if v}, f"{where}: actors"
    elif kind == "LifecycleQuery":
        expected_lifecycle = lifecycle(world, query, project_id)
        assert marts.starts(insight_id, project_id) == expected_lifecycle.starts, f"{where}: intervals"
        values, actors = marts.lifecycle(insight_id, project_id)
        assert values == expected_lifecycle.values, f"{where}: statuses"
        assert actors == expected_lifecycle.actors, f"{where}: actors"
    elif kind == "RetentionQuery":
        expected_retention = retention(world, query, project_id)
        assert marts.starts(insight_id, project_id) == expected_retention.cohort_starts, f"{where}: cohorts"
        table, actors = marts.retention(insight_id, project_id)
        assert table == expected_retention.table, f"{where}: table"
        assert actors == expected_retention.actors, f"{where}: actors"
    else:  # pragma: no cover - the cases hold no other kind
        raise AssertionError(kind)


# ------------------------------------------------------------------------------------------------
# World 1: hand-written edge cases
# ------------------------------------------------------------------------------------------------


def edge_case_events() -> list[TruthEvent]:
    """Events on the edges of days, weeks, months and DST changes in three time zones (times UTC)."""
    log = EventLog()
    # -- project 1, Europe/Berlin: CEST (UTC+2) until Sunday 25 Oct 2026 01:00 UTC, then CET (UTC+1)
    company, team = "company", "team"
    log.add(
        1, "2026-09-05T12:00:00", "signed_up", "dave", {company: "initech"}
    )  # before date_from, same month
    log.add(1, "2026-09-25T08:00:00", "$pageview", "dave", {company: "acme"}, {"path": "/a", "amount": 3})
    log.identify_group(1, "2026-09-20T10:00:00", company, "acme", {"plan": "pro", "employees": 50})
    log.add(1, "2026-09-30T12:00:00", "$pageview", "dave", {company: "initech"}, {"path": "/A"})
    log.add(1, "2026-10-13T12:00:00", "$pageview", "carol", {company: "acme", team: "t1"}, {"path": "/b/x"})
    log.add(1, "2026-10-19T12:00:00", "$pageview", "bob", {company: "globex"}, {"amount": "12"})
    log.identify_group(1, "2026-10-24T20:00:00", company, "globex", {"plan": "free"})
    # the last microsecond of Saturday 24 Oct and the first of Sunday 25 Oct (CEST)
    log.add(1, "2026-10-24T21:59:59.999999", "$pageview", "alice", {company: "acme"}, {"path": "/a", "amount": 5},
            person_set={"role": "admin"})  # fmt: skip
    log.add(
        1,
        "2026-10-24T22:00:00",
        "$pageview",
        "bob",
        {company: "globex", team: "t2"},
        {"path": "/B/x", "amount": "12"},
    )
    # 02:30 twice on 25 Oct: CEST (00:30 UTC) and CET (01:30 UTC)
    log.add(
        1, "2026-10-25T00:30:00", "insight_viewed", "alice", {company: "acme", team: "t1"}, {"beta": True}
    )
    log.add(1, "2026-10-25T01:30:00", "insight_viewed", "carol", {company: "acme"}, {"amount": 6.5},
            person_set={"role": "viewer"})  # fmt: skip
    # the last second of 25 Oct (CET) and the first of 26 Oct
    log.add(1, "2026-10-25T22:59:59", "$pageview", "dave", {company: "initech"}, {"amount": 7, "path": "/c"})
    log.add(1, "2026-10-25T23:00:00", "$pageview", "bob", {company: "globex"}, {"path": "/b/x"})
    log.add(1, "2026-10-26T09:00:00", "$pageview", "alice", {company: ""}, {"path": "/a"})  # no group
    log.identify_group(1, "2026-10-27T09:00:00", company, "acme", {"plan": "enterprise"})  # upgraded: was pro
    log.add(
        1, "2026-10-28T10:00:00", "$pageview", "erin", {company: "acme"}, {"$process_person_profile": False}
    )
    # Saturday 31 Oct 23:59:59 CET and Sunday 1 Nov 00:00 CET: a new week and a new month
    log.add(1, "2026-10-31T22:59:59", "$pageview", "alice", {company: "acme", team: "t1"}, {"path": "/a"})
    log.add(
        1, "2026-10-31T23:00:00", "insight_viewed", "bob", {company: "globex", team: "t2"}, {"path": "/d"}
    )
    # date_to 2 Nov covers through 23:59:59.999999 CET; 3 Nov 00:00 CET is outside
    log.add(
        1,
        "2026-11-02T22:59:59.999999",
        "$pageview",
        "carol",
        {company: "acme"},
        {"path": "/b/x", "amount": 13},
    )
    log.add(1, "2026-11-02T23:00:00", "$pageview", "dave", {company: "initech"}, {"path": "/a"})

    # -- project 2, America/New_York: EDT (UTC−4) until Sunday 1 Nov 2026 06:00 UTC, then EST
    log.identify_group(2, "2026-10-01T15:00:00", company, "hooli", {"plan": "pro"})
    log.add(
        2,
        "2026-10-20T04:00:00",
        "$pageview",
        "nina",
        {company: "hooli"},
        {"path": "/a"},
        person_set={"role": "admin"},
    )
    log.add(2, "2026-10-27T14:00:00", "$pageview", "omar", {company: "umbrella"}, {"path": "/b/x"})
    log.add(
        2, "2026-11-01T03:59:59", "$pageview", "nina", {company: "hooli"}, {"amount": 8}
    )  # Sat 31 Oct 23:59:59 EDT
    log.add(
        2, "2026-11-01T04:00:00", "$pageview", "omar", {company: "umbrella"}, {"path": "/A"}
    )  # Sun 1 Nov 00:00 EDT
    log.add(2, "2026-11-01T05:30:00", "insight_viewed", "nina", {company: "hooli", team: "n1"})  # 01:30 EDT
    log.add(
        2, "2026-11-01T06:30:00", "insight_viewed", "omar", {company: "umbrella", team: "n1"}
    )  # 01:30 EST
    log.add(
        2, "2026-11-03T04:59:59", "$pageview", "nina", {company: "hooli"}, {"path": "/a"}
    )  # 2 Nov 23:59:59 EST

    # -- project 3, Australia/Sydney: AEST (UTC+10) until Sunday 4 Oct 2026 16:00 UTC (02:00 → 03:00)
    log.identify_group(3, "2026-09-01T00:00:00", company, "wayne", {"plan": "enterprise"})
    log.add(
        3, "2026-10-03T13:59:59", "$pageview", "kim", {company: "wayne"}, {"path": "/a"}
    )  # Sat 3 Oct 23:59:59
    log.add(
        3, "2026-10-03T14:00:00", "$pageview", "lee", {company: "stark"}, {"path": "/a"}
    )  # Sun 4 Oct 00:00
    log.add(3, "2026-10-03T15:59:59", "$pageview", "kim", {company: "wayne", team: "w1"})  # 01:59:59 AEST
    log.add(3, "2026-10-03T16:00:00", "insight_viewed", "lee", {company: "stark"})  # 03:00 AEDT
    log.add(3, "2026-10-24T13:00:00", "$pageview", "kim", {company: "wayne"}, {"amount": 20})
    log.add(3, "2026-10-30T13:00:00", "$pageview", "lee", {company: "stark"}, {"path": "/b/x"})
    log.add(
        3, "2026-11-01T12:59:59", "$pageview", "kim", {company: "wayne"}, {"path": "/a"}
    )  # Sun 1 Nov 23:59:59
    return log.events


@pytest.fixture(scope="module")
def edge_home(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Marts, OracleWorld, WarehousePaths]]:
    events = edge_case_events()
    timezones = {p: TIMEZONES[p] for p in (1, 2, 3)}
    paths = write_lake(tmp_path_factory.mktemp("insight-edges"), timezones, events)
    database = build_insight_marts(paths, ALL_INSIGHTS, RUN_DATE, with_tests=True)
    marts = Marts.open(database)
    yield marts, world_from_truth(events, timezones, RUN_DATE), paths
    marts.close()


@pytest.fixture
def edge_world(edge_home: tuple[Marts, OracleWorld, WarehousePaths]) -> tuple[Marts, OracleWorld]:
    return edge_home[0], edge_home[1]


@pytest.mark.parametrize("insight_id", sorted(TRENDS))
def test_trends_match_the_oracle_at_day_week_month_and_dst_edges(
    edge_world: tuple[Marts, OracleWorld], insight_id: str
) -> None:
    marts, world = edge_world
    for project_id in world.timezones:
        check_insight(marts, world, insight_id, ALL_INSIGHTS[insight_id], project_id)


@pytest.mark.parametrize("insight_id", sorted({**STICKINESS, **LIFECYCLE, **RETENTION}))
def test_stickiness_lifecycle_and_retention_match_the_oracle_at_edges(
    edge_world: tuple[Marts, OracleWorld], insight_id: str
) -> None:
    marts, world = edge_world
    for project_id in world.timezones:
        check_insight(marts, world, insight_id, ALL_INSIGHTS[insight_id], project_id)


def test_hourly_buckets_follow_utc_hours_through_the_dst_change(
    edge_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = edge_world
    starts, lines = marts.trends("trend_hour_dst_berlin", 1)
    # 24 Oct (CEST) has 24 hours, 25 Oct has 25: 02:00 appears twice, once per offset
    assert len(starts) == 49
    twice = [(local, utc) for local, utc in starts if local == datetime(2026, 10, 25, 2)]
    assert [utc for _, utc in twice] == [datetime(2026, 10, 25, 0), datetime(2026, 10, 25, 1)]
    values = dict(zip([utc for _, utc in starts], lines[(0, None)], strict=True))
    assert values[datetime(2026, 10, 25, 0)] == 1 and values[datetime(2026, 10, 25, 1)] == 1


def test_date_to_covers_its_whole_local_day_and_nothing_after(edge_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = edge_world
    starts, lines = marts.trends("trend_total_day", 1)
    assert starts[-1][0] == datetime(2026, 11, 2)
    assert lines[(0, None)][-1] == 1  # 23:59:59.999999 on 2 Nov counts, 3 Nov 00:00 does not


def test_weeks_start_on_sunday_and_months_count_from_their_first_day(
    edge_world: tuple[Marts, OracleWorld],
) -> None:
    marts, _ = edge_world
    week_starts, _ = marts.trends("trend_week_relative", 1)
    assert {local.weekday() for local, _ in week_starts} == {6}
    month_starts, month_lines = marts.trends("trend_month_from_mid_month", 1)
    assert [local.date() for local, _ in month_starts] == [
        date(2026, 9, 1),
        date(2026, 10, 1),
        date(2026, 11, 1),
    ]
    assert month_lines[(0, None)][0] == 4  # September counts from the 1st although date_from is the 15th


def test_dormant_is_negative_and_new_follows_created_at(edge_world: tuple[Marts, OracleWorld]) -> None:
    marts, _ = edge_world
    values, actors = marts.lifecycle("lifecycle_groups_day", 1)
    assert min(values["dormant"]) < 0 and all(v <= 0 for v in values["dormant"])
    # acme was identified in September: never "new" in the range even on its first event day
    assert "new" not in {status for (_, actor), status in actors.items() if actor == "acme"}


def _gw_insight_json(paths: WarehousePaths, insight_id: str, project_id: int) -> dict[str, Any]:
    from typer.testing import CliRunner

    from gw.cli import app

    result = CliRunner().invoke(
        app, ["insight", insight_id, "--json", "--project", str(project_id), "--home", str(paths.home)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gw_insight_json_has_posthogs_response_shape_and_the_oracle_numbers(
    edge_home: tuple[Marts, OracleWorld, WarehousePaths],
) -> None:
    _, world, paths = edge_home
    paths.published_db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.build_db, paths.published_db)

    breakdown = _gw_insight_json(paths, "breakdown_group", 1)
    expected = trends(world, query_of(ALL_INSIGHTS["breakdown_group"]), 1)
    assert breakdown["kind"] == "TrendsQuery"
    got = {(line["action"]["order"], line["breakdown_value"]): line["data"] for line in breakdown["results"]}
    assert got == expected.lines
    for line in breakdown["results"]:
        assert set(line) >= {"action", "label", "count", "data", "labels", "days", "breakdown_value"}
        assert line["count"] == sum(line["data"])
        assert line["days"] == [local.strftime("%Y-%m-%d") for local, _ in expected.starts]
    first_series = [line for line in breakdown["results"] if line["action"]["order"] == 0]
    assert [line["count"] for line in first_series if line["breakdown_value"] != BREAKDOWN_NULL] == sorted(
        (line["count"] for line in first_series if line["breakdown_value"] != BREAKDOWN_NULL), reverse=True
    )

    hourly = _gw_insight_json(paths, "trend_hour_dst_berlin", 1)["results"][0]
    assert hourly["days"].count("2026-10-25 02:00:00") == 2 and hourly["breakdown_value"] is None

    life = _gw_insight_json(paths, "lifecycle_groups_day", 1)["results"]
    expected_life = lifecycle(world, query_of(ALL_INSIGHTS["lifecycle_groups_day"]), 1)
    assert [line["status"] for line in life] == ["new", "returning", "resurrecting", "dormant"]
    assert {line["status"]: line["data"] for line in life} == expected_life.values

    sticky = _gw_insight_json(paths, "stickiness_groups_week", 2)["results"]
    expected_sticky = stickiness(world, query_of(ALL_INSIGHTS["stickiness_groups_week"]), 2)
    cumulative = {i: [sum(c[n:]) for n in range(len(c))] for i, c in expected_sticky.counts.items()}
    assert {line["action"]["order"]: line["data"] for line in sticky} == cumulative
    assert sticky[0]["days"] == list(range(1, len(sticky[0]["days"]) + 1))

    kept = _gw_insight_json(paths, "retention_groups_week", 3)["results"]
    expected_kept = retention(world, query_of(ALL_INSIGHTS["retention_groups_week"]), 3)
    assert [[cell["count"] for cell in row["values"]] for row in kept] == expected_kept.table
    assert [row["label"] for row in kept] == [f"Week {n}" for n in range(len(kept))]


def test_gw_insight_prints_a_table_and_names_unknown_insights(
    edge_home: tuple[Marts, OracleWorld, WarehousePaths],
) -> None:
    from typer.testing import CliRunner

    from gw.cli import app

    _, _, paths = edge_home
    paths.published_db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.build_db, paths.published_db)
    shown = CliRunner().invoke(app, ["insight", "retention_first_time_day", "--home", str(paths.home)])
    assert shown.exit_code == 0 and "RetentionQuery" in shown.output
    missing = CliRunner().invoke(app, ["insight", "no_such_insight", "--home", str(paths.home)])
    assert missing.exit_code == 1 and "no_such_insight" in missing.output


# ------------------------------------------------------------------------------------------------
# World 2: hypothesis
# ------------------------------------------------------------------------------------------------
FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)
BOUNDARY_TIMES = [
    datetime(2026, 10, 24, 22, tzinfo=UTC),  # Berlin midnight (CEST)
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin DST change
    datetime(2026, 10, 25, 23, tzinfo=UTC),  # Berlin midnight (CET)
    datetime(2026, 11, 1, 4, tzinfo=UTC),  # New York midnight (EDT), Sunday
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York DST change
    datetime(2026, 10, 3, 16, tzinfo=UTC),  # Sydney DST change
    datetime(2026, 11, 1, 0, tzinfo=UTC),  # UTC midnight, month start
]


@st.composite
def event_times(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(BOUNDARY_TIMES))
        return base + timedelta(microseconds=draw(st.sampled_from([-1, 0, 1, -60_000_000, 3_600_000_000])))
    return FIRST_DAY + timedelta(seconds=draw(st.integers(0, 36 * 86_400)))


@st.composite
def project_events(draw: st.DrawFn, project_id: int) -> list[dict[str, Any]]:
    """One project's events: a few persons, companies and teams, the properties the cases use."""
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        groups = {"company": draw(st.sampled_from(["c0", "c1", "c2", ""]))}
        team = draw(st.sampled_from([None, "t0", "t1"]))
        if team is not None:
            groups["team"] = team
        properties: dict[str, Any] = {}
        for key, values in (
            ("path", ["/a", "/A", "/b/x", "/c", None]),
            ("amount", [None, 1, 6, 12, "7", "x"]),
            ("beta", [None, True, False]),
        ):
            value = draw(st.sampled_from(values))
            if value is not None:
                properties[key] = value
        rows.append(
            {
                "project_id": project_id,
                "at": draw(event_times()),
                "event": draw(st.sampled_from(["$pageview", "$pageview", "insight_viewed", "signed_up"])),
                "distinct_id": draw(st.sampled_from(["p0", "p1", "p2", "p3"])),
                "groups": groups,
                "properties": properties,
                "person_set": draw(st.sampled_from([None, None, {"role": "admin"}, {"role": "viewer"}])),
            }
        )
    identifies = draw(
        st.lists(
            st.tuples(st.sampled_from(["c0", "c1", "c2"]), st.sampled_from(["pro", "free"]), event_times()),
            max_size=3,
        )
    )
    for key, plan, at in identifies:
        rows.append({"project_id": project_id, "identify": (key, plan), "at": at})
    return rows


def _truth_events(rows: list[dict[str, Any]]) -> list[TruthEvent]:
    log = EventLog()
    for row in rows:
        at = row["at"].astimezone(UTC).replace(tzinfo=None).isoformat()
        if "identify" in row:
            key, plan = row["identify"]
            log.identify_group(row["project_id"], at, "company", key, {"plan": plan})
        else:
            log.add(
                row["project_id"],
                at,
                row["event"],
                row["distinct_id"],
                row["groups"],
                row["properties"],
                row["person_set"],
            )
    return log.events


@settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    worlds=st.tuples(project_events(1), project_events(2), project_events(3), project_events(4)),
)
def test_generated_event_sets_give_the_oracle_numbers_for_every_case(
    tmp_path_factory: pytest.TempPathFactory, worlds: tuple[list[dict[str, Any]], ...]
) -> None:
    rows = [row for world in worlds for row in world]
    rows.append({"project_id": 1, "at": FIRST_DAY, "event": "$pageview", "distinct_id": "p0", "groups": {},
                 "properties": {}, "person_set": None})  # fmt: skip
    events = _truth_events(rows)
    timezones = {p: TIMEZONES[p] for p in sorted({e.project_id for e in events})}
    paths = write_lake(tmp_path_factory.mktemp("insight-hypothesis"), timezones, events)
    marts = Marts.open(build_insight_marts(paths, ALL_INSIGHTS, RUN_DATE))
    world = world_from_truth(events, timezones, RUN_DATE)
    try:
        for insight_id, document in sorted(ALL_INSIGHTS.items()):
            for project_id in timezones:
                if not world.project_events(project_id):
                    continue
                check_insight(marts, world, insight_id, document, project_id)
    finally:
        marts.close()


# ------------------------------------------------------------------------------------------------
# World 3: the seeded generator's sample and the shipped example insights
# ------------------------------------------------------------------------------------------------
def test_shipped_example_insights_match_the_oracle_on_a_generated_sample_and_rebuild_identically(
    tmp_path: Path,
) -> None:
    from gw.generator import GeneratorSettings, generate
    from gw.insights.compile import DEFAULT_INSIGHTS_DIR, insight_files
    from gw.pipeline import land

    home = tmp_path / "home"
    from gw.config import warehouse_paths

    paths = warehouse_paths(home).ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, GeneratorSettings(events=2_500, groups=8, persons=30, days=35, seed=11))
    land(paths)
    documents = {path.stem: yaml.safe_load(path.read_text()) for path in insight_files(DEFAULT_INSIGHTS_DIR)}
    documents = {i: d for i, d in documents.items() if query_of(d)["kind"] in KINDS_WITH_MARTS_HERE}
    run_date = sample.end_date()
    database = build_insight_marts(paths, documents, run_date)
    first_build = insight_mart_digests(database)
    assert len(first_build) >= 10
    assert (
        insight_mart_digests(build_insight_marts(paths, documents, run_date, full_refresh=True))
        == first_build
    )
    marts = Marts.open(database)
    timezones = {project.id: project.timezone for project in paths.load_projects().projects}
    world = world_from_truth(sample.events, timezones, run_date)
    try:
        for insight_id, document in sorted(documents.items()):
            for project_id in timezones:
                check_insight(marts, world, insight_id, document, project_id)
    finally:
        marts.close()
