"""A real Airflow on localhost for tests: scheduler (LocalExecutor), DAG processor and the
Execution API server as separate processes on a SQLite metadata DB — what ``airflow standalone``
runs, minus the UI and the triggerer (no task defers).

Every process is started in its own session and stopped by its process group, so the executor's
worker processes go with it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gw.airflow_local import DAGS_FOLDER, airflow_env
from gw.config import REPO_ROOT, WarehousePaths

AIRFLOW = str(Path(sys.executable).with_name("airflow"))

#: SQLite connection arguments for every Airflow process (``sql_alchemy_connect_args``): wait up to a
#: minute for a lock instead of failing with "database is locked" when the scheduler, the DAG
#: processor, the API server and a CLI command write at once.
SQLITE_CONNECT_ARGS = {"timeout": 60}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalAirflow:
    """Scheduler + DAG processor + API server for one warehouse home."""

    paths: WarehousePaths
    airflow_home: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    parallelism: int = 3
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = airflow_env(self.paths)
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.airflow_home / 'airflow.db'}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "tests.integration.local_airflow.SQLITE_CONNECT_ARGS",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret,
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.airflow_home / "logs"),
                "AIRFLOW__COSMOS__CACHE_DIR": str(self.airflow_home / "cosmos-cache"),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            }
        )
        env.update(self.extra_env)
        return env

    def __post_init__(self) -> None:
        self._secret = secrets.token_hex(16)
        self.airflow_home.mkdir(parents=True, exist_ok=True)

    # ----------------------------------------------------------------------------------------
    # processes

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` against this instance's metadata DB."""
        completed = subprocess.run(
            [AIRFLOW, *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed

    def start(self) -> LocalAirflow:
        from gw.orchestration import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION, WAREHOUSE_POOL_SLOTS

        self.cli("db", "migrate")
        self.cli("pools", "set", WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS), WAREHOUSE_POOL_DESCRIPTION)
        logs = self.airflow_home / "process-logs"
        logs.mkdir(exist_ok=True)
        commands = {
            "api-server": [AIRFLOW, "api-server", "--apps", "execution", "--workers", "1"],
            "scheduler": [AIRFLOW, "scheduler"],
            "dag-processor": [AIRFLOW, "dag-processor"],
        }
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as out:
                self.processes[name] = subprocess.Popen(
                    command,
                    env=self.env,
                    cwd=REPO_ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        self._wait_for_api()
        return self

    def _wait_for_api(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"the API server did not listen on port {self.port} within {timeout} s")

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = (self.airflow_home / "process-logs" / f"{name}.log").read_text(errors="replace")
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{log[-4000:]}")

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is still there after 20 s."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    # ----------------------------------------------------------------------------------------
    # the metadata DB (read-only)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        database = self.airflow_home / "airflow.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
            return connection.execute(sql, params).fetchall()

    def wait(self, what: str, condition: Callable[[], Any], timeout: float, poll: float = 2.0) -> Any:
        """Poll ``condition`` until it returns something truthy; fail with ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                result = condition()
            except sqlite3.OperationalError:  # the DB is busy or not migrated yet
                result = None
            if result:
                return result
            time.sleep(poll)
        raise TimeoutError(f"timed out after {timeout} s waiting for {what}")

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "select run_id, run_type, state, logical_date, start_date, end_date from dag_run "
            "where dag_id = ? order by id",
            (dag_id,),
        )
        keys = ("run_id", "run_type", "state", "logical_date", "start_date", "end_date")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_instances(self, dag_id: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "select dag_id, run_id, task_id, state, pool, try_number, start_date, end_date, operator "
            "from task_instance"
        )
        rows = self.query(sql + (" where dag_id = ?" if dag_id else ""), (dag_id,) if dag_id else ())
        keys = (
            "dag_id",
            "run_id",
            "task_id",
            "state",
            "pool",
            "try_number",
            "start_date",
            "end_date",
            "operator",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_log_text(self, dag_id: str, task_id: str) -> str:
        """Every log file written for ``dag_id.task_id`` (all runs, all attempts), concatenated."""
        root = self.airflow_home / "logs" / f"dag_id={dag_id}"
        return "\n".join(
            path.read_text(errors="replace")
            for path in sorted(root.glob(f"run_id=*/task_id={task_id}/*.log"))
        )


def parse_db_time(value: str | None) -> datetime | None:
    """A timestamp as SQLite stores Airflow's (``2026-11-23 15:30:00.123456`` [+00:00])."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
