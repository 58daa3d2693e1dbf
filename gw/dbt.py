"""Running dbt: one place that knows the project path, the profile and the environment.

dbt runs as a subprocess of the venv's own ``dbt`` executable, so a crash or a kill of a build
never takes the caller down with it and every invocation starts from clean global state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gw.config import REPO_ROOT, WarehousePaths

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
#: The project's own target: only ``dbt parse`` writes here (the manifest Cosmos renders the DAGs
#: from); builds write their artifacts under their warehouse home (:func:`warehouse_target_path`).
PROJECT_TARGET_PATH = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = PROJECT_TARGET_PATH / "manifest.json"
PROFILE_NAME = "group_warehouse"


class DbtError(RuntimeError):
    """A dbt command failed; the message carries the tail of dbt's output."""


@dataclass(frozen=True)
class DbtResult:
    """What a dbt command did: its arguments, exit code, output and per-node results."""

    args: list[str]
    returncode: int
    output: str
    node_results: list[dict[str, object]]

    def counts(self) -> dict[str, int]:
        """Node results counted by status (``success``, ``pass``, ``error``, ``fail``, ``skipped``…)."""
        counts: dict[str, int] = {}
        for node in self.node_results:
            status = str(node.get("status"))
            counts[status] = counts.get(status, 0) + 1
        return counts


def dbt_executable() -> str:
    """The ``dbt`` executable installed beside the running Python."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(paths: WarehousePaths, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment dbt needs: ``WAREHOUSE_HOME`` (absolute) and no telemetry."""
    env = dict(os.environ)
    env["WAREHOUSE_HOME"] = str(paths.home)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DO_NOT_TRACK", "1")
    if extra:
        env.update(extra)
    return env


def warehouse_target_path(paths: WarehousePaths) -> Path:
    """Where builds of one warehouse write dbt's artifacts (``<home>/dbt/target``): two
    warehouses, or a build and a ``dbt parse`` of the project, never share a target folder."""
    return paths.home / "dbt" / "target"


def warehouse_log_path(paths: WarehousePaths) -> Path:
    """Where builds of one warehouse write dbt's log (``<home>/dbt/logs``)."""
    return paths.home / "dbt" / "logs"


def run_dbt(
    paths: WarehousePaths,
    command: Sequence[str],
    *,
    dbt_vars: Mapping[str, object] | None = None,
    target_path: Path | None = None,
    check: bool = True,
) -> DbtResult:
    """Run ``dbt <command>`` on the project against ``paths``' build database.

    ``dbt_vars`` become ``--vars``; ``target_path`` isolates the run's artifacts (defaults to the
    warehouse's own ``<home>/dbt/target``, see :func:`warehouse_target_path`; the log goes to
    ``<home>/dbt/logs`` unless ``DBT_LOG_PATH`` says otherwise). Raises :class:`DbtError` naming
    the failing nodes when ``check`` is set.
    """
    paths.build_db.parent.mkdir(parents=True, exist_ok=True)
    compile_insights()
    target = target_path or warehouse_target_path(paths)
    args = [
        dbt_executable(),
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
    ]
    if not os.environ.get("DBT_LOG_PATH"):
        args += ["--log-path", str(warehouse_log_path(paths))]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), default=str)]
    completed = subprocess.run(
        args,
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(paths),
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr
    node_results: list[dict[str, object]] = []
    run_results = target / "run_results.json"
    if command and command[0] in {"build", "run", "test", "seed"} and run_results.exists():
        node_results = [
            {"unique_id": r.get("unique_id"), "status": r.get("status"), "message": r.get("message")}
            for r in json.loads(run_results.read_text()).get("results", [])
        ]
    result = DbtResult(args=args, returncode=completed.returncode, output=output, node_results=node_results)
    if check and completed.returncode != 0:
        failing = [
            f"{n['unique_id']}: {n['message']}"
            for n in node_results
            if n.get("status") in {"error", "fail", "runtime error"}
        ]
        tail = "\n".join(output.strip().splitlines()[-25:])
        detail = "\n".join(failing) if failing else tail
        raise DbtError(f"dbt {' '.join(command)} failed (exit {completed.returncode}):\n{detail}")
    return result


def manifest_is_stale() -> bool:
    """Whether ``target/manifest.json`` is missing or older than any project source file (or insight file)."""
    from gw.insights.compile import insights_dir

    if not MANIFEST_PATH.exists():
        return True
    built = MANIFEST_PATH.stat().st_mtime
    folders = [
        DBT_PROJECT_DIR / f for f in ("models", "macros", "seeds", "data-tests", "analyses", "insights")
    ]
    for folder in [*folders, insights_dir()]:
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime > built:
                return True
    return any(
        (DBT_PROJECT_DIR / name).stat().st_mtime > built for name in ("dbt_project.yml", "profiles.yml")
    )


def ensure_manifest(paths: WarehousePaths) -> Path:
    """Parse the project when its manifest is stale; Cosmos renders the DAG from this manifest.

    The insight files are compiled into their generated macro first (a changed insight makes the
    manifest stale).
    """
    compile_insights()
    if manifest_is_stale():
        run_dbt(paths, ["parse"], target_path=PROJECT_TARGET_PATH)
    return MANIFEST_PATH


def compile_insights() -> bool:
    """Regenerate ``macros/generated/gw_insight_definitions.sql`` from the insight files.

    Writes only when the content changes; returns whether it wrote. An invalid insight file raises
    :class:`DbtError` naming the file and the field.
    """
    from gw.insights.compile import InsightError, write_macro

    try:
        return write_macro()
    except InsightError as exc:
        raise DbtError(f"invalid insight definitions:\n{exc}") from exc
