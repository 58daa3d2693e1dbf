"""The semantic layer from the command line: MetricFlow's ``mf`` over a warehouse file.

``mf`` reads its semantic manifest from ``<project>/target/semantic_manifest.json`` and its
connection from ``profiles.yml`` in the project (or ``$DBT_PROFILES_DIR``), both fixed places. So
that it never touches ``dbt_project/target`` (which the DAG renders from) nor opens the build file
while a build holds it, this module keeps a private MetricFlow folder, ``$WAREHOUSE_HOME/metricflow/``:

- ``dbt_project.yml``: a link to the project's;
- ``profiles.yml``: profile ``group_warehouse`` opening the chosen DuckDB file **read-only**
  (by default the published file BI tools read; ``--build`` for the build file);
- ``target/``: where ``dbt parse`` writes the manifest and the semantic manifest (re-parsed only
  when a model, macro, insight or the project file changed since).

``gw metrics`` runs ``mf query`` (or ``mf list metrics``) there; the same folder works by hand:
``DBT_PROJECT_DIR=$WAREHOUSE_HOME/metricflow DBT_PROFILES_DIR=$WAREHOUSE_HOME/metricflow mf query …``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gw.config import WarehousePaths
from gw.dbt import DBT_PROJECT_DIR, PROFILE_NAME, run_dbt

#: The project folders whose changes make the semantic manifest stale.
_SOURCE_FOLDERS = ("models", "macros", "seeds", "insights")


class MetricsError(RuntimeError):
    """``mf`` failed; the message carries its output and what to do next."""


def metricflow_dir(paths: WarehousePaths) -> Path:
    """The private MetricFlow project folder of a warehouse home."""
    return paths.home / "metricflow"


def mf_executable() -> str:
    """The ``mf`` executable installed beside the running Python."""
    candidate = Path(sys.executable).with_name("mf")
    return str(candidate) if candidate.exists() else "mf"


def profiles_yml(database: Path) -> str:
    """A ``profiles.yml`` whose only target opens ``database`` read-only (UTC session)."""
    output = {
        "type": "duckdb",
        "path": str(database),
        "schema": "marts",
        "threads": 1,
        "config_options": {"access_mode": "READ_ONLY"},
        "settings": {"TimeZone": "UTC"},
    }
    # JSON is valid YAML: no quoting rules to get wrong for odd paths.
    return json.dumps({PROFILE_NAME: {"target": "metrics", "outputs": {"metrics": output}}}, indent=2) + "\n"


def semantic_manifest_is_stale(manifest: Path) -> bool:
    """Whether ``manifest`` is missing or older than any project source file."""
    from gw.insights.compile import insights_dir

    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    folders = [DBT_PROJECT_DIR / name for name in _SOURCE_FOLDERS] + [insights_dir()]
    if (DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime > built:
        return True
    return any(
        path.is_file() and path.stat().st_mtime > built for folder in folders for path in folder.rglob("*")
    )


def prepare(paths: WarehousePaths, database: Path) -> Path:
    """Set up the MetricFlow folder for ``database`` (parsing the project when stale); its path."""
    if not database.exists():
        raise MetricsError(f"{database} does not exist: run `gw build` (or `gw demo`) first")
    root = metricflow_dir(paths)
    (root / "target").mkdir(parents=True, exist_ok=True)
    # replaced atomically: two `gw metrics` at once never see a missing file
    link = root / f".dbt_project.yml.{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(DBT_PROJECT_DIR / "dbt_project.yml")
    link.replace(root / "dbt_project.yml")
    profiles = root / f".profiles.yml.{os.getpid()}"
    profiles.write_text(profiles_yml(database.resolve()))
    profiles.replace(root / "profiles.yml")
    if semantic_manifest_is_stale(root / "target" / "semantic_manifest.json"):
        run_dbt(paths, ["parse"], target_path=root / "target")
    return root


def mf_env(root: Path) -> dict[str, str]:
    """The environment ``mf`` runs in: the MetricFlow folder as project and profiles dir."""
    env = dict(os.environ)
    env["DBT_PROJECT_DIR"] = str(root)
    env["DBT_PROFILES_DIR"] = str(root)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def run_mf(
    paths: WarehousePaths, args: Sequence[str], *, database: Path, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``mf <args>`` against ``database``; raise :class:`MetricsError` when it fails.

    With ``capture`` off, ``mf`` writes to the terminal (its spinner and table); otherwise its
    output is returned and an ``ERROR:`` line in it also counts as a failure.
    """
    root = prepare(paths, database)
    completed = subprocess.run(
        [mf_executable(), *args],
        cwd=root,
        env=mf_env(root),
        capture_output=capture,
        text=True,
        check=False,
    )
    output = (completed.stdout or "") + (completed.stderr or "")
    if completed.returncode != 0 or (capture and "\nERROR:" in f"\n{output}"):
        tail = "\n".join(output.strip().splitlines()[-40:])
        raise MetricsError(f"mf {' '.join(args)} failed (exit {completed.returncode}):\n{tail}")
    return completed


def query_args(
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    *,
    where: Sequence[str] = (),
    order: Sequence[str] = (),
    limit: int | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
) -> list[str]:
    """The ``mf query`` arguments for a query (names may also be given comma-separated)."""
    args = ["query", "--metrics", ",".join(metrics)]
    if group_by:
        args += ["--group-by", ",".join(group_by)]
    for condition in where:
        args += ["--where", condition]
    if order:
        args += ["--order", ",".join(order)]
    if limit is not None:
        args += ["--limit", str(limit)]
    if start_time:
        args += ["--start-time", start_time]
    if end_time:
        args += ["--end-time", end_time]
    return args


def query(
    paths: WarehousePaths,
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    *,
    database: Path,
    where: Sequence[str] = (),
    order: Sequence[str] = (),
    limit: int | None = None,
) -> list[dict[str, str]]:
    """The rows ``mf query`` answers (as CSV text values, one dict per row)."""
    with tempfile.TemporaryDirectory(prefix="gw-mf-") as folder:
        out = Path(folder) / "result.csv"
        args = query_args(metrics, group_by, where=where, order=order, limit=limit)
        run_mf(paths, [*args, "--csv", str(out), "--quiet"], database=database)
        if not out.exists():  # an empty result writes no file
            return []
        with out.open(newline="") as handle:
            return list(csv.DictReader(handle))


#: The headline queries :func:`write_snapshot` answers: file name → (metrics, group-by).
SNAPSHOT_QUERIES: dict[str, tuple[list[str], list[str]]] = {
    "groups_daily.csv": (
        [
            "active_groups",
            "weekly_active_groups",
            "monthly_active_groups",
            "group_events",
            "events_per_active_group",
            "new_groups",
        ],
        ["metric_time__day", "group__project_id", "group__group_type"],
    ),
    "funnels.csv": (
        ["funnel_entered", "funnel_converted", "funnel_conversion_rate"],
        ["funnel_actor__insight_id", "funnel_actor__project_id", "funnel_actor__breakdown_value"],
    ),
}


def write_snapshot(paths: WarehousePaths, database: Path | None = None) -> dict[str, Path]:
    """Answer the headline metrics with ``mf query`` into ``reports/metrics/*.csv``; the files.

    Reads the published file unless told otherwise; each file is replaced atomically, so a reader
    never sees half of one. A step for the demo and the DAGs after a publish.
    """
    folder = paths.reports / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, (metrics, group_by) in SNAPSHOT_QUERIES.items():
        temp = folder / f".{name}.tmp"
        temp.unlink(missing_ok=True)
        run_mf(
            paths,
            [*query_args(metrics, group_by, order=group_by), "--csv", str(temp), "--quiet"],
            database=database or paths.published_db,
        )
        if not temp.exists():  # an empty answer writes no file: keep the header
            temp.write_text(",".join([*group_by, *metrics]) + "\n")
        written[name] = temp.replace(folder / name)
    return written
