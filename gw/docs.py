"""dbt docs for one warehouse: generated into ``$WAREHOUSE_HOME/reports/dbt-docs`` and served locally.

``dbt docs generate`` runs with its own target folder under the warehouse home (never the project's
shared ``target/``, which Cosmos renders the DAGs from) against the warehouse's build file, so the
catalog shows the tables, views, column types and row counts of the last build — every model
(staging, intermediate, marts), not only the published marts. ``--static`` also writes
``static_index.html``, one file with the manifest and catalog inlined that opens from disk without a
server. ``gw docs --serve`` runs ``dbt docs serve`` on that folder (localhost, ``--port``).
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gw.config import WarehousePaths

__all__ = ["DocsResult", "docs_dir", "generate_docs", "serve_command", "serve_docs"]

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class DocsResult:
    """What ``dbt docs generate`` wrote: the site and what its manifest and catalog hold."""

    folder: Path
    index: Path
    static_index: Path
    models: int
    documented_models: int
    exposures: int
    catalog_tables: int

    def describe(self) -> list[str]:
        return [
            f"dbt docs: {self.models} models ({self.documented_models} described), {self.exposures} exposures, "
            f"{self.catalog_tables} tables and views in the catalog",
            f"site: {self.index} (serve it: gw docs --serve)",
            f"single file, opens without a server: {self.static_index}",
        ]


def docs_dir(paths: WarehousePaths) -> Path:
    """``$WAREHOUSE_HOME/reports/dbt-docs``: this warehouse's dbt docs site and artifacts."""
    return paths.reports / "dbt-docs"


def generate_docs(paths: WarehousePaths, run_date: str | None = None) -> DocsResult:
    """``dbt docs generate --static`` against the build file, into :func:`docs_dir`.

    ``run_date`` (var ``run_date``, shown in the compiled SQL) defaults to the last build's date.
    Raises ``FileNotFoundError`` before the first build and :class:`gw.dbt.DbtError` when dbt fails
    (for example while a build holds the file's lock).
    """
    from gw.dbt import run_dbt
    from gw.pipeline import read_state, record_state

    if not paths.build_db.exists():
        raise FileNotFoundError(f"{paths.build_db} does not exist: run `gw build` (or `gw demo`) first")
    chosen = (
        run_date or (read_state(paths, "build") or {}).get("run_date") or datetime.now(UTC).date().isoformat()
    )
    folder = docs_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    run_dbt(paths, ["docs", "generate", "--static"], dbt_vars={"run_date": str(chosen)}, target_path=folder)
    result = _describe(folder)
    record_state(
        paths,
        "docs",
        {
            "path": str(result.index),
            "static_index": str(result.static_index),
            "run_date": str(chosen),
            "models": result.models,
            "catalog_tables": result.catalog_tables,
        },
    )
    return result


def _describe(folder: Path) -> DocsResult:
    manifest = json.loads((folder / "manifest.json").read_text())
    catalog = json.loads((folder / "catalog.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    return DocsResult(
        folder=folder,
        index=folder / "index.html",
        static_index=folder / "static_index.html",
        models=len(models),
        documented_models=sum(1 for node in models if (node.get("description") or "").strip()),
        exposures=len(manifest.get("exposures", {})),
        catalog_tables=len(catalog.get("nodes", {})) + len(catalog.get("sources", {})),
    )


def serve_command(paths: WarehousePaths, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> list[str]:
    """The ``dbt docs serve`` command line for this warehouse's docs folder."""
    from gw.dbt import DBT_PROJECT_DIR, dbt_executable

    return [
        dbt_executable(),
        "docs",
        "serve",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(docs_dir(paths)),
        "--port",
        str(port),
        "--host",
        host,
        "--no-browser",
    ]


def serve_docs(paths: WarehousePaths, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> int:
    """Serve the generated docs on ``http://<host>:<port>`` until interrupted; dbt's exit code."""
    from gw.dbt import DBT_PROJECT_DIR, dbt_env

    if not (docs_dir(paths) / "manifest.json").exists():
        raise FileNotFoundError(f"no dbt docs in {docs_dir(paths)}: run `gw docs` first")
    server = subprocess.Popen(serve_command(paths, port, host), cwd=DBT_PROJECT_DIR, env=dbt_env(paths))

    def stop(_signal: int, _frame: object) -> None:
        server.terminate()  # a stopped `gw docs --serve` never leaves its server behind

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        server.terminate()
        code = 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0 if code < 0 else code  # stopped by a signal: a normal end
