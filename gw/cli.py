"""The ``gw`` command: the warehouse's public command line.

Every command calls the same functions as the Airflow tasks (``gw.pipeline``), so a run from the
terminal and a scheduled run do the same work.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gw.config import warehouse_paths

app = typer.Typer(
    name="gw",
    help="Group analytics warehouse: land PostHog capture files, build, audit and publish marts.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Warehouse home (default: $WAREHOUSE_HOME, else ./warehouse)."),
]


def _fail(message: str, hint: str | None = None) -> None:
    console.print(f"[bold red]error:[/] {message}")
    if hint:
        console.print(f"[yellow]next:[/] {hint}")
    raise typer.Exit(code=1)


@app.command()
def generate(
    directory: Annotated[Path, typer.Argument(help="Folder to write capture files into (an inbox).")],
    events: Annotated[int, typer.Option(help="Approximate number of good events.")] = 20_000,
    groups: Annotated[int, typer.Option(help="Companies per project.")] = 40,
    persons: Annotated[int, typer.Option(help="Persons per project.")] = 300,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 30,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2026-10-01",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes.")] = 42,
    bad_files: Annotated[bool, typer.Option(help="Also write bad files and bad events.")] = True,
) -> None:
    """Write a seeded synthetic B2B SaaS sample as capture files (batch bodies, NDJSON exports…)."""
    from rich.progress import Progress

    from gw.generator import GeneratorSettings
    from gw.generator import generate as generate_sample

    settings = GeneratorSettings(
        events=events,
        groups=groups,
        persons=persons,
        days=days,
        start=date.fromisoformat(start),
        seed=seed,
        bad_files=bad_files,
    )
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("generating events", total=events)
        sample = generate_sample(
            directory,
            settings,
            progress=lambda done, total: progress.update(bar, completed=done, total=total),
        )
    console.print(
        f"wrote {len(sample.files)} files with {len(sample.events):,} good events to {directory} "
        f"(days {settings.start} … {sample.end_date()})"
    )


@app.command()
def land(
    home: HomeOption = None,
    inbox: Annotated[Path | None, typer.Option(help="Inbox to land from (default: <home>/inbox).")] = None,
) -> None:
    """Land new inbox files into the lake exactly once; bad events go to quarantine with a reason."""
    from gw.pipeline import land as land_step
    from loaders.lake import LakeWriteError

    paths = warehouse_paths(home)
    try:
        report = land_step(paths, inbox=inbox)
    except FileNotFoundError as exc:
        _fail(str(exc), "run `gw demo` once, or write projects.yml as the README shows")
    except (LakeWriteError, OSError) as exc:
        # A full disk or an unwritable folder: one clear line naming the path, no traceback.
        # Nothing is lost: a file is landed whole (manifest) or stays in the inbox.
        what = f"{type(exc).__name__}: {exc}"  # e.g. LakeWriteError: cannot write <path>: [Errno 28] …
        errors = Console(stderr=True)
        errors.print(f"[bold red]error:[/] {what}", soft_wrap=True, highlight=False)
        errors.print(
            "[yellow]next:[/] free space or fix permissions there, then run `gw land` again "
            "(files not landed are still in the inbox)",
            soft_wrap=True,
        )
        raise typer.Exit(code=2) from None
    console.print(report.summary())


@app.command()
def build(
    home: HomeOption = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    run_date: Annotated[
        str | None, typer.Option(help="Logical date (YYYY-MM-DD); default today (UTC).")
    ] = None,
) -> None:
    """dbt build → GX audit → publish. Publishes only when the audit passes."""
    from expectations import AuditFailed
    from gw.dbt import DbtError
    from gw.pipeline import audit, publish
    from gw.pipeline import build as build_step

    paths = warehouse_paths(home)
    chosen = date.fromisoformat(run_date) if run_date else None
    try:
        with console.status("dbt build…"):
            result = build_step(paths, run_date=chosen, full_refresh=full_refresh)
        console.print(f"dbt build: {result.counts()}")
        with console.status("auditing…"):
            report = audit(paths)
        console.print(report.describe())
        published = publish(paths)
    except DbtError as exc:
        _fail(str(exc), "fix the model or data named above, then run `gw build` again")
    except AuditFailed as exc:
        _fail(str(exc), "nothing was published; the previous publish is still in place")
    except RuntimeError as exc:
        _fail(str(exc))
    console.print(f"published {len(published.tables)} marts to {published.path}")


@app.command()
def status(home: HomeOption = None) -> None:
    """What has been landed and quarantined, and the last build, audit and publish."""
    from gw.pipeline import warehouse_status

    paths = warehouse_paths(home)
    if not paths.home.exists():
        _fail(f"{paths.home} does not exist", "run `gw demo`, or set WAREHOUSE_HOME")
    print_status(warehouse_status(paths), paths.home)


def print_status(status: object, home: Path) -> None:
    """Print the warehouse status as two tables: data, then the last run of each step."""
    from gw.pipeline import WarehouseStatus

    assert isinstance(status, WarehouseStatus)
    data = Table(title=f"warehouse {home}")
    data.add_column("what")
    data.add_column("count", justify="right")
    data.add_row("files landed", f"{status.files_landed:,}")
    data.add_row("events landed (before uuid de-duplication)", f"{status.events_landed:,}")
    for reason, count in status.quarantined_by_reason.items():
        data.add_row(f"quarantined: {reason}", f"{count:,}")
    console.print(data)
    steps = Table(title="last runs")
    for column in ("step", "when (UTC)", "result"):
        steps.add_column(column)
    for step, state in status.last.items():
        if state is None:
            steps.add_row(step, "never", "")
            continue
        steps.add_row(step, str(state["at"]), _describe_step(step, state))
    console.print(steps)
    audit_state = status.last.get("audit") or {}
    if audit_state.get("data_docs"):
        console.print(f"audit Data Docs: {audit_state['data_docs']}")
    for link in _report_links(home):
        console.print(link, soft_wrap=True)


def _describe_step(step: str, state: dict[str, object]) -> str:
    if step == "landing":
        return f"{state.get('files_landed')} files, {state.get('events_landed')} events"
    if step == "build":
        return f"run_date {state.get('run_date')}: {state.get('nodes')}"
    if step == "audit":
        verdict = "passed" if state.get("passed") else "FAILED"
        return f"{verdict}, {state.get('failures')} failures, {state.get('warnings')} warnings"
    if step == "publish":
        tables = state.get("tables") or {}
        return f"{len(tables)} marts → {state.get('path')}"  # type: ignore[arg-type]
    return ""


@app.command()
def demo(
    home: HomeOption = None,
    events: Annotated[int, typer.Option(help="Approximate number of good events to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed of the sample.")] = 42,
) -> None:
    """The main job end to end: sample → Airflow DAG (land, dbt, audit, publish) → summary."""
    from gw.airflow_local import run_dag
    from gw.dbt import ensure_manifest
    from gw.generator import GeneratorSettings
    from gw.generator import generate as generate_sample
    from gw.pipeline import summarize, warehouse_status

    started = time.monotonic()
    paths = warehouse_paths(home).ensure()
    if paths.write_demo_projects():
        console.print(f"wrote {paths.projects_file}")
    settings = GeneratorSettings(events=events, seed=seed)
    with console.status("generating a sample into the inbox…"):
        sample = generate_sample(paths.inbox, settings)
    console.print(f"generated {len(sample.files)} capture files ({len(sample.events):,} good events)")
    with console.status("parsing the dbt project…"):
        ensure_manifest(paths)
    logical_date = sample.end_date()
    with console.status("running the Airflow DAG gw_pipeline (land → dbt → audit → publish)…"):
        outcome = run_dag(paths, "gw_pipeline", logical_date)
    if not outcome.succeeded:
        _fail(f"the DAG run failed; its log: {outcome.log_path}", "read the log's first error")
    console.print(f"Airflow run of gw_pipeline for {logical_date} succeeded (log: {outcome.log_path})")
    print_summary(summarize(paths))
    print_status(warehouse_status(paths), paths.home)
    console.print(f"[green]demo finished in {time.monotonic() - started:.0f} s[/]")


def print_summary(summary: object) -> None:
    """Print the demo's summary: daily active groups per type, top groups, how to open the file."""
    from gw.pipeline import Summary

    assert isinstance(summary, Summary)
    by_project: dict[int, dict[date, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    types_by_project: dict[int, list[str]] = defaultdict(list)
    for (project_id, group_type, day), active in sorted(summary.daily_active_groups.items()):
        by_project[project_id][day][group_type] = active
        if group_type not in types_by_project[project_id]:
            types_by_project[project_id].append(group_type)
    for project_id, days in by_project.items():
        table = Table(title=f"project {project_id}: active groups per day (project time zone)")
        table.add_column("day")
        for group_type in types_by_project[project_id]:
            table.add_column(group_type, justify="right")
        for day, counts in sorted(days.items()):
            table.add_row(day.isoformat(), *(str(counts.get(t, 0)) for t in types_by_project[project_id]))
        console.print(table)
    top = Table(title="top groups by events")
    for column in ("project", "type", "key", "name", "events"):
        top.add_column(column)
    for project_id, group_type, key, name, count in summary.top_groups:
        top.add_row(str(project_id), group_type, key, name, f"{count:,}")
    console.print(top)
    console.print(f"published marts: {', '.join(summary.tables)}")
    console.print(f"published file: [bold]{summary.published_db}[/]")
    console.print(
        f"open it: duckdb -readonly {summary.published_db}  → select * from marts.dim_groups limit 10;\n"
        f"     or: python -c \"import duckdb; print(duckdb.connect('{summary.published_db}', "
        "read_only=True).sql('from marts.fct_daily_active_groups limit 10'))\""
    )


@app.command()
def bench(
    size: Annotated[
        str, typer.Option(help="Dataset size: small (CI smoke), medium (1M events) or full (10M events).")
    ] = "full",
    workdir: Annotated[Path, typer.Option(help="Scratch folder for the data and the warehouse home.")] = Path(
        "warehouse-bench"
    ),
    output: Annotated[
        Path | None, typer.Option(help="JSON results file (default <workdir>/bench.json).")
    ] = None,
    memory_limit: Annotated[
        str, typer.Option(help="DuckDB memory_limit for every step (dbt profile and direct connections).")
    ] = "3GB",
    threads: Annotated[int, typer.Option(help="DuckDB threads (and chdb max_threads) for every step.")] = 2,
    increment: Annotated[
        int | None,
        typer.Option(help="Events the incremental run adds (default 0.1 % of the dataset's events)."),
    ] = None,
    reuse_data: Annotated[
        bool, typer.Option(help="Reuse the generated dataset already in the workdir (same size).")
    ] = False,
    compare_to: Annotated[
        Path | None,
        typer.Option(
            help="Another run's JSON: report incremental flatness (e.g. medium vs full, same --increment)."
        ),
    ] = None,
) -> None:
    """Benchmark landing, dbt build, marts and an incremental run against DuckDB-direct and chdb."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gw.bench import SIZES, STAGES, EngineSettings, compare_flatness, run_bench

    if size not in SIZES:
        _fail(f"unknown size {size!r}", f"choose one of {', '.join(SIZES)}")
    other = None
    if compare_to is not None:
        if not compare_to.exists():
            _fail(f"{compare_to} does not exist", "run `gw bench --output FILE` at the other size first")
        other = json.loads(compare_to.read_text())
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("bench", total=len(STAGES))

        def advance(text: str) -> None:
            if text in STAGES:
                progress.update(
                    task, completed=STAGES.index(text), description=f"bench --size {size}: {text}"
                )
            else:
                progress.update(task, description=f"bench --size {size}: {text}")

        report = run_bench(
            size,
            workdir.resolve(),
            progress=advance,
            engine=EngineSettings(memory_limit=memory_limit, threads=threads),
            increment_events=increment,
            reuse_data=reuse_data,
        )
        progress.update(task, completed=len(STAGES), description=f"bench --size {size}: done")
    if other is not None:
        report.flatness = compare_flatness(report.to_dict(), other)
    table = Table(
        title=f"gw bench --size {size}: {report.events:,} events "
        f"(DuckDB memory_limit {memory_limit}, threads {threads})"
    )
    for column in (
        "step",
        "seconds",
        "CPU s",
        "events/s",
        "peak RSS MB",
        "vs baseline",
        "ratio",
        "CPU ratio",
        "note",
    ):
        table.add_column(column, justify="left" if column in {"step", "vs baseline", "note"} else "right")
    for step in report.steps:
        table.add_row(
            step.name,
            f"{step.seconds:.2f}",
            f"{step.cpu_seconds:.2f}" if step.cpu_seconds is not None else "",
            f"{step.events_per_second:,.0f}" if step.events_per_second else "",
            f"{step.peak_rss_mb:,.0f}",
            step.baseline or "",
            f"{step.ratio:.2f}×" if step.ratio is not None else "",
            f"{step.cpu_ratio:.2f}×" if step.cpu_ratio is not None else "",
            step.note,
        )
    console.print(table)
    latency = Table(title="published-mart queries (ms)")
    for column in ("query", "p50", "p95"):
        latency.add_column(column)
    for label, values in report.query_latency_ms.items():
        latency.add_row(label, f"{values['p50']:.1f}", f"{values['p95']:.1f}")
    console.print(latency)
    targets = Table(title="targets (issue 9)")
    for column in ("target", "measured", "met"):
        targets.add_column(column)
    for row in report.targets():
        targets.add_row(row["target"], f"{row['value']:.3g}", "[green]yes[/]" if row["met"] else "[red]no[/]")
    console.print(targets)
    if report.flatness is not None:
        flat = report.flatness
        console.print(
            f"incremental flatness: history ×{flat['history_ratio']:.1f} → incremental build "
            f"×{flat['time_ratio']:.2f} ({flat['incremental_seconds'][0]:.1f} s → {flat['incremental_seconds'][1]:.1f} s)"
            + (f", its models ×{flat['models_time_ratio']:.2f}" if flat.get("models_time_ratio") else "")
        )
    for check in report.checks:
        console.print(f"[green]✓[/] {check}")
    target = output or workdir / "bench.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    console.print(f"results: {target}")


@app.command()
def delete_group(
    project_id: Annotated[int, typer.Argument(help="The project of the group (projects.yml id).")],
    group_type: Annotated[str, typer.Argument(help="The group type as sent in $groups (e.g. company).")],
    group_key: Annotated[str, typer.Argument(help="The group key (as text, e.g. acme or 42).")],
    home: HomeOption = None,
    reason: Annotated[
        str | None, typer.Option(help="Why the group is deleted (kept with the request).")
    ] = None,
    requested_by: Annotated[
        str | None, typer.Option(help="Who asks (default: the current user name).")
    ] = None,
) -> None:
    """Delete a group: record the request; the next `gw build` removes it from every model and mart."""
    from gw.deletion import deletion_requests_file, request_group_deletion

    paths = warehouse_paths(home)
    try:
        request = request_group_deletion(
            paths, project_id, group_type, group_key, requested_by=requested_by, reason=reason
        )
    except ValueError as exc:
        _fail(str(exc), "check the project id in projects.yml and the group type and key")
    console.print(
        f"recorded deletion request {request.request_id} for {group_type} {group_key!r} in project "
        f"{project_id} (by {request.requested_by} at {request.requested_at:%Y-%m-%d %H:%M:%S} UTC) "
        f"in {deletion_requests_file(paths)}"
    )
    console.print(
        "[yellow]next:[/] run `gw build`: it removes the group's properties and history, detaches its "
        "events (dbt var group_deletion_events: remove drops them) and republishes the marts"
    )


@app.command()
def insight(
    insight_id: Annotated[str, typer.Argument(help="The insight id (its file name in the insights folder).")],
    home: HomeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print PostHog's query API response shape for the insight's kind.")
    ] = False,
    project: Annotated[
        int | None, typer.Option("--project", help="Project id (default: the lowest one).")
    ] = None,
) -> None:
    """A declared insight's result, read from the published marts."""
    import json as json_module

    from gw.insights.results import InsightNotFound, read_insight

    paths = warehouse_paths(home)
    if not paths.published_db.exists():
        _fail(f"{paths.published_db} does not exist", "run `gw demo` or `gw build` first")
    try:
        result = read_insight(paths.published_db, insight_id, project)
    except InsightNotFound as exc:
        _fail(str(exc), "declare it in dbt_project/insights/ (or $GW_INSIGHTS_DIR) and run `gw build`")
    except Exception as exc:  # noqa: BLE001 - a publish without insight marts, a locked file…
        _fail(f"cannot read insight marts from {paths.published_db}: {exc}", "run `gw build`")
    if as_json:
        sys.stdout.write(json_module.dumps(result.response, indent=2, default=str) + "\n")
        return
    _print_insight(result)


def _print_insight(result: object) -> None:
    """An insight's result as a table: intervals (or cohorts, or interval counts) × lines."""
    from gw.insights.results import InsightResult

    assert isinstance(result, InsightResult)
    title = result.name or result.insight_id
    console.print(
        f"[bold]{title}[/] ({result.kind}, project {result.project_id}, by {result.interval}, "
        f"{result.date_from:%Y-%m-%d %H:%M} … {result.date_to:%Y-%m-%d %H:%M} local time)"
    )
    rows = result.response["results"]
    if result.kind == "FunnelsQuery":
        from gw.insights.funnel_results import funnel_table

        console.print(funnel_table(rows))
        return
    table = Table()
    if result.kind == "RetentionQuery":
        table.add_column("cohort")
        periods = len(rows[0]["values"]) if rows else 0
        for period in range(periods):
            table.add_column(str(period), justify="right")
        for row in rows:
            table.add_row(row["date"][:16].replace("T", " "), *(str(v["count"]) for v in row["values"]))
    else:
        key = "days"
        table.add_column("interval" if result.kind != "StickinessQuery" else "intervals active")
        for line in rows:
            table.add_column(str(line.get("status") or line["label"]), justify="right")
        for position, day in enumerate(rows[0][key] if rows else []):
            table.add_row(str(day), *(str(line["data"][position]) for line in rows))
    console.print(table)


@app.command()
def metrics(
    names: Annotated[
        list[str] | None, typer.Argument(help="Metrics to query (comma or space separated); none: list them.")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        typer.Option("--group-by", "-g", help="Dimensions, e.g. metric_time__week, group_day__group_type."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="MetricFlow filter, e.g. \"{{ Dimension('group__group_type') }} = 'company'\"."),
    ] = None,
    order: Annotated[list[str] | None, typer.Option(help="Order by these (prefix - for descending).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    start_time: Annotated[str | None, typer.Option(help="ISO date: first metric_time shown.")] = None,
    end_time: Annotated[str | None, typer.Option(help="ISO date: last metric_time shown.")] = None,
    build_file: Annotated[
        bool, typer.Option("--build", help="Query the build file instead of the published one.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """The semantic layer's metrics (MetricFlow `mf query`) against the published marts."""
    from gw.metrics import MetricsError, query_args, run_mf

    paths = warehouse_paths(home)
    database = paths.build_db if build_file else paths.published_db
    metric_names = [n for name in names or [] for n in name.split(",") if n]
    args = (
        query_args(
            metric_names,
            [g for item in group_by or [] for g in item.split(",") if g],
            where=where or [],
            order=order or [],
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )
        if metric_names
        else ["list", "metrics"]
    )
    try:
        run_mf(paths, args, database=database, capture=False)
    except MetricsError as exc:
        _fail(
            str(exc).splitlines()[0],
            "`gw metrics` without arguments lists the metrics and their dimensions; "
            "run `gw build` first if the warehouse file is missing",
        )


@app.command()
def alerts(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(help="How many of the latest alerts to show.")] = 20,
) -> None:
    """The latest alerts of the Airflow DAGs (failures, missed deadlines) from alerts/alerts.jsonl."""
    from gw.alerts import alerts_file, read_alerts

    paths = warehouse_paths(home)
    recorded = read_alerts(paths)
    if not recorded:
        console.print(f"no alerts in {alerts_file(paths)}")
        return
    table = Table(title=f"latest alerts ({len(recorded)} in {alerts_file(paths)})")
    for column in ("when (UTC)", "kind", "severity", "where", "message"):
        table.add_column(column)
    for alert in recorded[-limit:]:
        where = ".".join(str(part) for part in (alert.get("dag_id"), alert.get("task_id")) if part)
        table.add_row(
            str(alert.get("at")),
            str(alert.get("kind")),
            str(alert.get("severity")),
            where,
            str(alert.get("message") or "").strip().splitlines()[0][:200] if alert.get("message") else "",
        )
    console.print(table)


@app.command()
def report(
    home: HomeOption = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="First run `gw build` (dbt build → audit → publish): new insight files show up."
        ),
    ] = False,
    run_date: Annotated[
        str | None, typer.Option(help="With --rebuild: the logical date (YYYY-MM-DD); default today (UTC).")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Name of this run's file (default: the UTC time, e.g. 20261123T175000Z)."),
    ] = None,
) -> None:
    """A static HTML report of every declared insight (charts, funnel drop-offs) from the published marts."""
    from gw.report import summary_lines, write_report

    paths = warehouse_paths(home)
    if rebuild:
        build(home=home, full_refresh=False, run_date=run_date)
    try:
        with console.status("writing the insight report…"):
            written = write_report(paths, run_id=run_id)
    except FileNotFoundError as exc:
        _fail(str(exc), "run `gw report --rebuild`, `gw build` or `gw demo` first")
    except Exception as exc:  # noqa: BLE001 - a publish without insight marts, a locked file…
        _fail(f"cannot read the insight marts of {paths.published_db}: {exc}", "run `gw report --rebuild`")
    for line in summary_lines(written):
        console.print(line, soft_wrap=True)
    console.print(f"open it: [bold]file://{written.latest}[/]", soft_wrap=True)


@app.command()
def docs(
    home: HomeOption = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the docs on localhost after generating them.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of --serve.")] = 8080,
    host: Annotated[str, typer.Option(help="Interface of --serve (default: localhost only).")] = "127.0.0.1",
    generate_docs: Annotated[
        bool, typer.Option("--generate/--no-generate", help="Run `dbt docs generate` first (default).")
    ] = True,
) -> None:
    """dbt docs of the whole project and this warehouse's catalog, in <home>/reports/dbt-docs."""
    from gw.dbt import DbtError
    from gw.docs import docs_dir, serve_docs
    from gw.docs import generate_docs as write_docs

    paths = warehouse_paths(home)
    if generate_docs:
        try:
            with console.status("dbt docs generate…"):
                result = write_docs(paths)
        except FileNotFoundError as exc:
            _fail(str(exc), "run `gw build` or `gw demo` first")
        except DbtError as exc:
            _fail(
                str(exc), "if a build is running, wait for it (dbt needs the build file's lock), then retry"
            )
        for line in result.describe():
            console.print(line, soft_wrap=True)
    if serve:
        console.print(f"serving {docs_dir(paths)} on http://{host}:{port} (Ctrl+C stops)")
        try:
            code = serve_docs(paths, port=port, host=host)
        except FileNotFoundError as exc:
            _fail(str(exc), "run `gw docs` without --no-generate")
        if code:
            _fail(f"dbt docs serve exited with {code}", f"is port {port} free? try --port {port + 1}")


def _report_links(home: Path) -> list[str]:
    """Where the latest insight report and dbt docs of ``home`` are, for `gw status` and the demo."""
    from gw.docs import docs_dir
    from gw.report import latest_report

    paths = warehouse_paths(home)
    links = []
    latest = latest_report(paths)
    if latest is not None:
        links.append(f"insight report (`gw report`): file://{latest}")
    docs_index = docs_dir(paths) / "static_index.html"
    if docs_index.exists():
        links.append(f"dbt docs (`gw docs --serve`): file://{docs_index}")
    metrics = paths.reports / "metrics"
    if metrics.is_dir() and any(metrics.glob("*.csv")):
        links.append(f"metrics snapshot (`gw metrics`): {metrics}")
    return links


def main() -> None:
    """Entry point for ``python -m gw``."""
    app(sys.argv[1:])


if __name__ == "__main__":
    main()
