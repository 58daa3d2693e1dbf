"""Collect every declared insight's result from the published marts and write the HTML report.

The report is one self-contained file: plotly's JavaScript is inlined once in the page's head, each
chart is a ``div`` drawn by it, and nothing is fetched from the network, so the file can be mailed,
archived or opened from a shared folder. Every run writes
``$WAREHOUSE_HOME/reports/insights/<run id>.html`` and replaces ``latest.html`` beside it with a copy
(atomically: a reader never sees half a file).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gw.config import WarehousePaths
from gw.insights.results import InsightResult, insight_ids, read_insight
from gw.report.charts import breakdown_label, figure_for, funnel_lines, step_label

__all__ = [
    "DroppedActor",
    "InsightSection",
    "ReportResult",
    "collect_sections",
    "latest_report",
    "report_dir",
    "report_run_id",
    "summary_lines",
    "write_report",
]

#: Dropped-off actors listed per funnel and project; the rest are counted.
DROPPED_ROWS_SHOWN = 200
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DroppedActor:
    """An actor (group or person) that reached ``reached_step`` and not the step after it."""

    dropped_before_step: str
    breakdown: str | None
    actor_id: str
    display_name: str | None
    reached_step: str
    first_step_at: datetime | None
    furthest_step_at: datetime | None


@dataclass
class InsightSection:
    """One insight of one project: its result, chart and, for funnels, who dropped off."""

    result: InsightResult
    description: str | None
    chart_html: str | None = None
    dropped: list[DroppedActor] = field(default_factory=list)
    dropped_total: int = 0

    @property
    def anchor(self) -> str:
        return f"p{self.result.project_id}-{self.result.insight_id}"

    @property
    def title(self) -> str:
        return self.result.name or self.result.insight_id


@dataclass(frozen=True)
class ReportResult:
    """What a report run wrote."""

    path: Path
    latest: Path
    run_id: str
    insights: int
    charts: int
    sections: int


def report_dir(paths: WarehousePaths) -> Path:
    """``$WAREHOUSE_HOME/reports/insights``: one HTML file per run and ``latest.html``."""
    return paths.reports / "insights"


def latest_report(paths: WarehousePaths) -> Path | None:
    """The latest report, when one was written."""
    latest = report_dir(paths) / "latest.html"
    return latest if latest.exists() else None


def report_run_id(run_id: str | None = None, now: datetime | None = None) -> str:
    """A file-name-safe run id: the Airflow run id given, else the UTC time (``20261123T175000Z``)."""
    if run_id:
        cleaned = _RUN_ID_UNSAFE.sub("_", run_id).strip("._")
        if cleaned and cleaned != "latest":
            return cleaned
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------
def collect_sections(database: Path) -> list[InsightSection]:
    """Every insight × project in ``database`` (a published file), with its chart and drop-offs."""
    sections: list[InsightSection] = []
    for insight_id, project_id, _kind in insight_ids(database):
        result = read_insight(database, insight_id, project_id)
        sections.append(InsightSection(result=result, description=result.definition.get("description")))
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = {
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        for section in sections:
            if section.result.kind == "FunnelsQuery" and "mart_insight_funnel_actors" in tables:
                section.dropped, section.dropped_total = _dropped_actors(connection, section.result, tables)
    for section in sections:
        figure = figure_for(section.result)
        if figure is not None:
            section.chart_html = figure.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"chart-{section.anchor}",
                default_height="440px",
                config={"displaylogo": False, "responsive": True},
            )
    return sections


def _dropped_actors(
    connection: duckdb.DuckDBPyConnection, result: InsightResult, tables: set[str]
) -> tuple[list[DroppedActor], int]:
    """The actors that dropped off each step (``mart_insight_funnel_actors.dropped_off_at_step``)."""
    names = "cast(null as varchar)"
    joins = ""
    if "dim_groups" in tables:
        joins += (
            " left join marts.dim_groups as groups on actors.actor_type = 'group'"
            " and groups.project_id = actors.project_id"
            " and groups.group_type_index = actors.group_type_index and groups.group_key = actors.actor_id"
        )
        names = "groups.display_name"
    if "dim_persons" in tables:
        joins += (
            " left join marts.dim_persons as persons on actors.actor_type = 'person'"
            " and cast(persons.person_id as varchar) = actors.actor_id"
        )
        names = f"coalesce({names}, persons.canonical_distinct_id)"
    where = "actors.insight_id = ? and actors.project_id = ? and actors.dropped_off_at_step is not null"
    (total,) = connection.execute(
        f"select count(*) from marts.mart_insight_funnel_actors as actors where {where}",  # noqa: S608
        [result.insight_id, result.project_id],
    ).fetchone() or (0,)
    rows = connection.execute(
        f"""
        select actors.dropped_off_at_step, actors.breakdown_value, actors.actor_id, {names},
               actors.furthest_step, actors.first_step_at, actors.furthest_step_at
        from marts.mart_insight_funnel_actors as actors {joins}
        where {where}
        order by actors.dropped_off_at_step, actors.breakdown_rank nulls first, actors.actor_id
        limit {DROPPED_ROWS_SHOWN}
        """,  # noqa: S608 - identifiers are ours, values are parameters
        [result.insight_id, result.project_id],
    ).fetchall()
    lines = funnel_lines(result.response["results"])
    steps = {int(step["order"]) + 1: step_label(step) for step in (lines[0] if lines else [])}
    has_breakdown = result.definition.get("breakdown") is not None
    dropped = [
        DroppedActor(
            dropped_before_step=steps.get(int(dropped_at), str(dropped_at)),
            breakdown=breakdown_label(breakdown) if has_breakdown else None,
            actor_id=str(actor_id),
            display_name=None if name is None or str(name) == str(actor_id) else str(name),
            reached_step=steps.get(int(furthest), str(furthest)),
            first_step_at=first_at,
            furthest_step_at=furthest_at,
        )
        for dropped_at, breakdown, actor_id, name, furthest, first_at, furthest_at in rows
    ]
    return dropped, int(total)


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def write_report(paths: WarehousePaths, run_id: str | None = None) -> ReportResult:
    """Write the report of the published marts for this run and replace ``latest.html``.

    Raises ``FileNotFoundError`` when nothing was published yet.
    """
    from gw.pipeline import read_state, record_state
    from gw.report.html import render_report

    database = paths.published_db
    if not database.exists():
        raise FileNotFoundError(f"{database} does not exist: run `gw build` (or `gw demo`) first")
    chosen = report_run_id(run_id)
    sections = collect_sections(database)
    html = render_report(
        sections,
        run_id=chosen,
        generated_at=datetime.now(UTC),
        published_db=database,
        publish_state=read_state(paths, "publish"),
        build_state=read_state(paths, "build"),
        project_names=_project_names(paths),
    )
    folder = report_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{chosen}.html"
    _write_atomically(target, html)
    latest = folder / "latest.html"
    _copy_atomically(target, latest)
    result = ReportResult(
        path=target,
        latest=latest,
        run_id=chosen,
        insights=len({section.result.insight_id for section in sections}),
        charts=sum(1 for section in sections if section.chart_html),
        sections=len(sections),
    )
    record_state(
        paths,
        "report",
        {
            "path": str(target),
            "latest": str(latest),
            "run_id": chosen,
            "insights": result.insights,
            "charts": result.charts,
        },
    )
    return result


def _project_names(paths: WarehousePaths) -> dict[int, str]:
    try:
        return {project.id: project.name for project in paths.load_projects().projects}
    except (FileNotFoundError, ValueError):
        return {}


def _write_atomically(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _copy_atomically(source: Path, target: Path) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary_lines(result: ReportResult) -> list[str]:
    """What a run of the report says (``gw report``, the DAG task's log)."""
    return [
        f"insight report: {result.insights} insights, {result.charts} charts ({result.sections} insight × project)",
        f"wrote {result.path}",
        f"latest: {result.latest}",
    ]
