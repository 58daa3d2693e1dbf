"""``gw report`` and ``gw docs`` on a real small warehouse, and the report in a real browser.

The warehouse: the seeded generator's sample landed by the real landing, the insight marts and
their ancestors built by dbt with the shipped insight files (the insight harness's build), and
published. The report is opened in Debian's chromium (``/usr/bin/chromium``, headless, through
playwright; ``make test`` installs the package when it is missing): every chart must have drawn its
traces, its screenshot must not be blank, and the page must log no error and fetch nothing from the
network. The analyst's loop runs on a copy of the repository: a new insight file added to the
copy's ``dbt_project/insights`` appears in the report after one command, ``gw report --rebuild``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from gw.config import REPO_ROOT, WarehousePaths, warehouse_paths
from gw.generator import GeneratorSettings, generate
from gw.insights.compile import DEFAULT_INSIGHTS_DIR, insight_files
from gw.pipeline import land
from gw.publish import publish
from gw.report import latest_report, write_report
from tests.integration.insight_harness import build_insight_marts

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SAMPLE = GeneratorSettings(events=1_500, groups=8, persons=30, days=20, seed=11)
GW = str(Path(sys.executable).with_name("gw"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> WarehousePaths:
    """A published warehouse with every shipped insight, and its first report (run id ``first``)."""
    paths = warehouse_paths(tmp_path_factory.mktemp("report") / "home").ensure()
    paths.write_demo_projects()
    sample = generate(paths.inbox, SAMPLE)
    land(paths)
    documents = {path.stem: yaml.safe_load(path.read_text()) for path in insight_files(DEFAULT_INSIGHTS_DIR)}
    build_insight_marts(paths, documents, sample.end_date())
    publish(paths)
    write_report(paths, run_id="first")
    return paths


class _Page(HTMLParser):
    """The report's articles (insight × project), chart divs and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.articles: list[dict[str, str]] = []
        self.charts: list[str] = []
        self.script_sources: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "article":
            self.articles.append(found)
        elif tag == "div" and "plotly-graph-div" in found.get("class", ""):
            self.charts.append(found["id"])
        elif tag == "script":
            if found.get("src"):
                self.script_sources.append(found["src"])
            else:
                self.inline_scripts += 1


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _published(paths: WarehousePaths, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(paths.published_db), read_only=True) as connection:
        return connection.execute(sql, list(args)).fetchall()


# ------------------------------------------------------------------------------------------------
# The file
# ------------------------------------------------------------------------------------------------
def test_the_report_has_one_chart_per_declared_insight_and_project_with_plotly_inlined_once(
    warehouse: WarehousePaths,
) -> None:
    latest = latest_report(warehouse)
    assert latest is not None and latest.read_bytes() == (latest.parent / "first.html").read_bytes()
    page = _parse(latest)
    expected = {
        (insight_id, str(project_id), kind)
        for insight_id, project_id, kind in _published(
            warehouse, "select insight_id, project_id, insight_kind from marts.mart_insights"
        )
    }
    shipped = {path.stem for path in insight_files(DEFAULT_INSIGHTS_DIR)}
    assert {insight_id for insight_id, _, _ in expected} == shipped
    found = {(a["data-insight-id"], a["data-project-id"], a["data-kind"]) for a in page.articles}
    assert found == expected
    assert {kind for _, _, kind in found} == {
        "TrendsQuery",
        "LifecycleQuery",
        "RetentionQuery",
        "StickinessQuery",
        "FunnelsQuery",
    }
    # every insight of the sample has data, so every article draws its chart
    assert sorted(page.charts) == sorted(f"chart-p{p}-{i}" for i, p, _ in expected)
    assert page.script_sources == []  # nothing loaded from anywhere: plotly.js is inlined …
    text = latest.read_text(encoding="utf-8")
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", text)) == 1  # … exactly once
    bundle_end = text.index("</script>")  # plotly.js itself mentions URLs; the page must not load any
    assert not re.search(r"""(src|href)=["']https?://""", text[bundle_end:])


def test_each_chart_draws_what_gw_insight_json_answers(warehouse: WarehousePaths) -> None:
    """Spot checks across kinds: the chart's data are the PostHog-shaped result's numbers."""
    from gw.insights.results import read_insight

    text = latest_report(warehouse).read_text(encoding="utf-8")  # type: ignore[union-attr]

    def chart_data(anchor: str) -> str:
        start = text.index(f'Plotly.newPlot(                        "chart-{anchor}"')
        return text[start : text.index("</script>", start)]

    trends = read_insight(warehouse.published_db, "daily_active_companies", 1).response["results"]
    assert '"y":[' + ",".join(str(v) for v in trends[0]["data"]) + "]" in chart_data(
        "p1-daily_active_companies"
    )
    lifecycle = read_insight(warehouse.published_db, "company_lifecycle", 2).response["results"]
    dormant = next(line for line in lifecycle if line["status"] == "dormant")
    assert any(value < 0 for value in dormant["data"])  # drawn below zero
    assert '"y":[' + ",".join(str(v) for v in dormant["data"]) + "]" in chart_data("p2-company_lifecycle")
    funnel = read_insight(warehouse.published_db, "company_signup_to_paid", 1).response["results"]
    reached = [step["count"] for step in funnel]
    dropped = [0] + [a - b for a, b in zip(reached, reached[1:], strict=False)]
    drawn = chart_data("p1-company_signup_to_paid")
    assert '"y":[' + ",".join(map(str, reached)) + "]" in drawn
    assert '"y":[' + ",".join(map(str, dropped)) + "]" in drawn
    assert '"type":"heatmap"' in chart_data("p1-weekly_company_retention")


def test_funnels_list_the_groups_that_dropped_off_at_each_step(warehouse: WarehousePaths) -> None:
    text = latest_report(warehouse).read_text(encoding="utf-8")  # type: ignore[union-attr]
    dropped = _published(
        warehouse,
        """
        select actors.insight_id, actors.project_id, actors.actor_id, groups.display_name
        from marts.mart_insight_funnel_actors as actors
        left join marts.dim_groups as groups
            on groups.project_id = actors.project_id and groups.group_type_index = actors.group_type_index
            and groups.group_key = actors.actor_id
        where actors.dropped_off_at_step is not null
        """,
    )
    assert dropped, "the sample should have companies that drop off a funnel"
    articles = {
        match.group(1): match.group(0)
        for match in re.finditer(r'<article id="([^"]+)".*?</article>', text, re.S)
    }
    for insight_id, project_id, actor_id, name in dropped:
        article = articles[f"p{project_id}-{insight_id}"]
        assert f"<code>{actor_id}</code>" in article
        if name and name != actor_id:
            assert f"<td>{name}</td>" in article
    counts = _published(
        warehouse,
        "select insight_id, project_id, count(*) from marts.mart_insight_funnel_actors "
        "where dropped_off_at_step is not null group by all",
    )
    for insight_id, project_id, count in counts:
        assert f"Who dropped off: {count} groups" in articles[f"p{project_id}-{insight_id}"]


def test_every_run_writes_its_own_file_and_replaces_latest_and_status_links_it(
    warehouse: WarehousePaths,
) -> None:
    folder = warehouse.reports / "insights"
    completed = subprocess.run(
        [GW, "report", "--home", str(warehouse.home), "--run-id", "manual__2026-10-21T00:00:00+00:00"],
        capture_output=True,
        text=True,
        check=True,
    )
    second = folder / "manual__2026-10-21T00_00_00_00_00.html"
    assert str(second) in completed.stdout
    assert (folder / "first.html").exists() and second.exists()
    assert (folder / "latest.html").read_text() == second.read_text()
    status = subprocess.run(
        [GW, "status", "--home", str(warehouse.home)], capture_output=True, text=True, check=True
    )
    assert f"file://{folder / 'latest.html'}" in status.stdout


def test_gw_report_before_any_publish_says_what_to_run(tmp_path: Path) -> None:
    completed = subprocess.run(
        [GW, "report", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},  # one line per message, whatever the path's length
    )
    assert completed.returncode == 1
    assert "does not exist" in completed.stdout and "gw report --rebuild" in completed.stdout


# ------------------------------------------------------------------------------------------------
# A real browser
# ------------------------------------------------------------------------------------------------
def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_every_chart_renders_in_headless_chromium_without_console_errors(warehouse: WarehousePaths) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is not installed: `make test` installs it, or run "
            "`apt-get install -y --no-install-recommends chromium`"
        )
    from playwright.sync_api import sync_playwright

    report = latest_report(warehouse)
    assert report is not None
    problems: list[str] = []
    remote: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.on(
                "request",
                lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else remote.append(r.url),
            )
            page.goto(report.as_uri(), wait_until="load")
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(div => ({
                    id: div.id,
                    svg: div.querySelectorAll('svg.main-svg').length,
                    traces: (div._fullData || []).length,
                    drawn: div.querySelectorAll('.cartesianlayer g.trace, .cartesianlayer g.hm').length,
                    points: div.querySelectorAll('g.trace .point, g.trace path.js-line, g.hm image').length,
                }))"""
            )
            expected = len(_published(warehouse, "select * from marts.mart_insights"))
            assert len(charts) == expected
            for chart in charts:
                assert chart["svg"] >= 1, chart
                assert chart["traces"] >= 1 and chart["drawn"] >= chart["traces"], chart
                assert chart["points"] >= 1, chart
            # a blank element of a chart's size is the baseline a drawn chart must clearly exceed
            page.evaluate(
                """() => { const blank = document.createElement('div'); blank.id = 'blank';
                   blank.style.cssText = 'width:1154px;height:440px;background:#fff';
                   document.body.prepend(blank); }"""
            )
            blank = page.locator("#blank").screenshot()
            page.evaluate("() => document.getElementById('blank').remove()")
            for chart in charts:
                png = page.locator(f"#{chart['id']}").screenshot()
                width, height = _png_size(png)
                assert width > 300 and height > 300, chart["id"]
                assert len(png) > 3 * len(blank), f"{chart['id']} looks blank ({len(png)} bytes)"
            whole = page.screenshot(full_page=True)
            assert _png_size(whole)[1] > 5_000
        finally:
            browser.close()
    assert problems == []
    assert remote == []


# ------------------------------------------------------------------------------------------------
# dbt docs
# ------------------------------------------------------------------------------------------------
def test_gw_docs_generates_the_docs_with_the_exposures_into_the_warehouse_and_serves_them(
    warehouse: WarehousePaths,
) -> None:
    import json

    from gw.docs import docs_dir

    completed = subprocess.run(
        [GW, "docs", "--home", str(warehouse.home)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    folder = docs_dir(warehouse)
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
        assert (folder / name).stat().st_size > 0, name
    manifest = json.loads((folder / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"insight_report", "insight_command", "demo_summary"} <= set(exposures)
    report_inputs = set(exposures["insight_report"]["depends_on"]["nodes"])
    insight_marts = {
        node_id
        for node_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["name"] in {"mart_insights", "mart_insight_trends", "mart_insight_funnel_actors"}
    }
    assert len(insight_marts) == 3 and insight_marts <= report_inputs
    catalog = json.loads((folder / "catalog.json").read_text())
    assert any(node_id.endswith(".mart_insight_trends") for node_id in catalog["nodes"])  # the build's tables
    status = subprocess.run(
        [GW, "status", "--home", str(warehouse.home)], capture_output=True, text=True, check=True
    )
    assert f"file://{folder / 'static_index.html'}" in status.stdout

    generated_at = (folder / "catalog.json").stat().st_mtime_ns
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [GW, "docs", "--home", str(warehouse.home), "--serve", "--no-generate", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:  # noqa: S310
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, "gw docs --serve exited"
                assert time.monotonic() < deadline, "gw docs --serve did not answer within 60 s"
                time.sleep(0.5)
        assert "dbt" in page.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=5) as response:  # noqa: S310
            assert "insight_report" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (folder / "catalog.json").stat().st_mtime_ns == generated_at  # --no-generate served the last docs
    # stopping `gw docs --serve` stops dbt's server too (nothing keeps the port)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            break
        assert time.monotonic() < deadline, f"port {port} still served after gw docs --serve stopped"
        time.sleep(0.5)


# ------------------------------------------------------------------------------------------------
# The analyst's loop
# ------------------------------------------------------------------------------------------------
NEW_INSIGHT = """\
# An analyst's new insight: one file, then `gw report --rebuild`.
name: Companies signing up per week
kind: TrendsQuery
series:
  - {kind: EventsNode, event: signed_up, math: unique_group, math_group_type_index: 0}
interval: week
dateRange: {date_from: -30d}
"""


def _repository_copy(root: Path) -> Path:
    """The code and dbt project of this repository (what an analyst's clone holds), without build output."""
    ignore = shutil.ignore_patterns("__pycache__", "target", "logs", ".user.yml")
    for folder in ("gw", "loaders", "expectations", "dbt_project"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=ignore)
    return root


@pytest.mark.slow
def test_a_new_insight_file_appears_in_the_report_after_gw_report_rebuild(
    warehouse: WarehousePaths, tmp_path: Path
) -> None:
    """The README's analyst loop, on a copy of the repository so the shared tree is never touched."""
    repository = _repository_copy(tmp_path / "repository")
    home = tmp_path / "home"
    shutil.copytree(warehouse.home, home, ignore=shutil.ignore_patterns("dbt-target", "dbt-docs"))
    paths = warehouse_paths(home)
    before = _parse(latest_report(paths))  # type: ignore[arg-type]
    assert "companies_signing_up_weekly" not in {a["data-insight-id"] for a in before.articles}

    (repository / "dbt_project" / "insights" / "companies_signing_up_weekly.yml").write_text(NEW_INSIGHT)
    env = {k: v for k, v in os.environ.items() if k not in {"GW_INSIGHTS_DIR", "WAREHOUSE_HOME"}}
    env["PYTHONPATH"] = str(repository)
    completed = subprocess.run(
        [sys.executable, "-m", "gw", "report", "--rebuild", "--home", str(home), "--run-date", "2026-10-21"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "published" in completed.stdout and "latest" in completed.stdout

    after = _parse(latest_report(paths))  # type: ignore[arg-type]
    new = [a for a in after.articles if a["data-insight-id"] == "companies_signing_up_weekly"]
    assert {a["data-project-id"] for a in new} == {"1", "2"}
    assert {"chart-p1-companies_signing_up_weekly", "chart-p2-companies_signing_up_weekly"} <= set(
        after.charts
    )
    assert len(after.articles) == len(before.articles) + 2
    # the shared tree's generated insight macro was never touched
    generated = REPO_ROOT / "dbt_project" / "macros" / "generated" / "gw_insight_definitions.sql"
    assert "companies_signing_up_weekly" not in generated.read_text()
