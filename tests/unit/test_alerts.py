"""Alerts: a JSON line under $WAREHOUSE_HOME/alerts/ and a webhook POST to a loopback receiver."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from gw.alerts import (
    Alert,
    alerts_file,
    deadline_missed_callback,
    read_alerts,
    send_alert,
    task_failure_callback,
)
from gw.config import warehouse_paths
from tests.alert_receiver import alert_receiver


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.delenv("GW_ALERT_WEBHOOK_URL", raising=False)
    return tmp_path


def _failure_context() -> dict[str, object]:
    ti = SimpleNamespace(
        dag_id="gw_build",
        task_id="dbt_build.fct_events_run",
        run_id="asset_triggered__2026-11-01T00:00:00",
        try_number=3,
        log_url="http://localhost:8080/log",
    )
    dag_run = SimpleNamespace(dag_id="gw_build", run_id=ti.run_id, logical_date=None)
    return {"ti": ti, "dag_run": dag_run, "exception": RuntimeError("Could not set lock on file")}


def test_an_alert_without_a_webhook_is_recorded_as_one_json_line(home: Path) -> None:
    result = send_alert(Alert(kind="task_failed", severity="error", message="boom", dag_id="gw_build"))
    records = read_alerts(warehouse_paths(home))
    assert result["webhook_status"] is None
    assert len(records) == 1
    assert records[0]["kind"] == "task_failed" and records[0]["message"] == "boom"
    assert alerts_file(warehouse_paths(home)) == home / "alerts" / "alerts.jsonl"


def test_the_failure_callback_records_the_task_and_posts_to_the_webhook(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with alert_receiver() as receiver:
        monkeypatch.setenv("GW_ALERT_WEBHOOK_URL", receiver.url)
        task_failure_callback(_failure_context())
        assert receiver.wait_for(lambda body: body.get("kind") == "task_failed", timeout=5)
    (record,) = read_alerts(warehouse_paths(home))
    assert record["dag_id"] == "gw_build"
    assert record["task_id"] == "dbt_build.fct_events_run"
    assert record["try_number"] == 3
    assert "Could not set lock on file" in record["message"]
    (posted,) = receiver.bodies
    assert posted["alert_id"] == record["alert_id"]
    assert posted["text"].startswith("[group-warehouse error] task_failed gw_build.dbt_build.fct_events_run")
    assert receiver.headers[0]["Content-Type"] == "application/json"


def test_the_deadline_callback_records_a_deadline_miss(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shape the scheduler hands to a SyncCallback when a deadline passes (Deadline.handle_miss).
    context = {
        "dag_run": {
            "dag_id": "gw_build",
            "dag_run_id": "asset_triggered__x",
            "logical_date": None,
            "queued_at": "2026-11-01T00:00:00Z",
            "state": "running",
        },
        "deadline": {"id": "d1", "deadline_time": datetime(2026, 11, 1, 1, tzinfo=UTC)},
    }
    with alert_receiver() as receiver:
        monkeypatch.setenv("GW_ALERT_WEBHOOK_URL", receiver.url)
        deadline_missed_callback(context=context, dag_id="gw_build", limit="60 min")
        assert receiver.wait_for(lambda body: body.get("kind") == "deadline_missed", timeout=5)
    (record,) = read_alerts(warehouse_paths(home))
    assert record["kind"] == "deadline_missed" and record["severity"] == "warning"
    assert record["run_id"] == "asset_triggered__x"
    assert record["details"]["deadline_time"] == "2026-11-01T01:00:00+00:00"
    assert "60 min" in record["message"]


def test_an_unreachable_webhook_never_raises_and_is_recorded(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GW_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/nobody")
    monkeypatch.setenv("GW_ALERT_WEBHOOK_TIMEOUT", "2")
    result = send_alert(Alert(kind="task_failed", severity="error", message="boom"))
    kinds = [r["kind"] for r in read_alerts(warehouse_paths(home))]
    assert kinds == ["task_failed", "webhook_failed"]
    assert result["webhook_error"]


def test_a_webhook_answering_an_error_status_is_recorded_as_failed(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with alert_receiver(status=500) as receiver:
        monkeypatch.setenv("GW_ALERT_WEBHOOK_URL", receiver.url)
        send_alert(Alert(kind="task_failed", severity="error", message="boom"))
    assert [r["kind"] for r in read_alerts(warehouse_paths(home))] == ["task_failed", "webhook_failed"]


def test_a_broken_context_never_masks_the_task_failure(home: Path) -> None:
    task_failure_callback({"ti": object(), "exception": None})  # must not raise
    (record,) = read_alerts(warehouse_paths(home))
    assert record["kind"] == "task_failed"
