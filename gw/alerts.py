"""Alerts: one JSON line per alert under ``$WAREHOUSE_HOME/alerts/``, and an optional webhook POST.

Airflow calls the callbacks at the bottom of this module:

- :func:`task_failure_callback` — a task failed for good (after its last retry);
- :func:`deadline_missed_callback` — a DAG run was still running at its deadline (Airflow 3's
  deadline alerts replace Airflow 2's SLAs; the scheduler queues the callback on the executor).

Every alert is first appended to ``alerts/alerts.jsonl`` (one ``write`` of one line with
``O_APPEND``, then ``fsync``), so the record exists even when the webhook is down. When
``GW_ALERT_WEBHOOK_URL`` is set the same record is POSTed there as JSON (with a ``text`` field, so
Slack- and Teams-style incoming webhooks show a readable line); a delivery failure is logged and
recorded as a ``webhook_failed`` line, never raised: an alert must not fail the task that sends it.

Nothing here imports Airflow: the callbacks read the context they are given as a plain mapping.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gw.config import WarehousePaths, warehouse_paths

log = logging.getLogger(__name__)

#: Environment variable naming the webhook URL alerts are POSTed to (unset: no POST).
WEBHOOK_ENV = "GW_ALERT_WEBHOOK_URL"
#: Seconds to wait for the webhook to answer (default 5).
WEBHOOK_TIMEOUT_ENV = "GW_ALERT_WEBHOOK_TIMEOUT"
ALERTS_FILE = "alerts.jsonl"


@dataclass(frozen=True)
class Alert:
    """One alert as it is recorded and posted."""

    kind: str
    """``task_failed``, ``deadline_missed``, ``audit_failed``… or ``webhook_failed``."""
    severity: str
    """``error`` or ``warning``."""
    message: str
    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    try_number: int | None = None
    logical_date: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    alert_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """A one-line human summary (the ``text`` of the webhook payload)."""
        where = ".".join(part for part in (self.dag_id, self.task_id) if part)
        return f"[group-warehouse {self.severity}] {self.kind} {where} {self.run_id or ''}: {self.message}".strip()


def alerts_dir(paths: WarehousePaths) -> Path:
    """``$WAREHOUSE_HOME/alerts``."""
    return paths.home / "alerts"


def alerts_file(paths: WarehousePaths) -> Path:
    """The JSON-lines file every alert is appended to."""
    return alerts_dir(paths) / ALERTS_FILE


def append_record(paths: WarehousePaths, record: Mapping[str, Any]) -> Path:
    """Append one JSON line durably (a single ``O_APPEND`` write, then ``fsync``)."""
    target = alerts_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, default=str, sort_keys=True) + "\n").encode()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def read_alerts(paths: WarehousePaths) -> list[dict[str, Any]]:
    """Every recorded alert, oldest first (an empty list when none was raised)."""
    target = alerts_file(paths)
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]


def post_webhook(url: str, payload: Mapping[str, Any], timeout: float | None = None) -> int:
    """POST ``payload`` as JSON; return the HTTP status. Raises ``OSError`` on failure."""
    seconds = timeout if timeout is not None else float(os.environ.get(WEBHOOK_TIMEOUT_ENV, "5"))
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "group-warehouse-alerts"},
    )
    with urllib.request.urlopen(request, timeout=seconds) as response:  # noqa: S310 (configured URL)
        status = int(response.status)
    if status >= 300:
        raise OSError(f"webhook answered HTTP {status}")
    return status


def send_alert(alert: Alert, paths: WarehousePaths | None = None) -> dict[str, Any]:
    """Record ``alert`` and, when ``GW_ALERT_WEBHOOK_URL`` is set, POST it. Never raises.

    Returns the record, with ``webhook_status`` (HTTP status, ``None`` when not configured) and
    ``webhook_error`` when delivery failed.
    """
    chosen = paths or warehouse_paths()
    record = alert.to_dict()
    try:
        written = append_record(chosen, record)
        log.error("ALERT %s (recorded in %s)", alert.text(), written)
    except OSError as exc:  # the disk may be the problem: still try the webhook
        log.error("ALERT %s (could not be recorded: %s)", alert.text(), exc)
    result: dict[str, Any] = {**record, "webhook_status": None}
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return result
    try:
        result["webhook_status"] = post_webhook(url, {**record, "text": alert.text()})
    except (OSError, ValueError, urllib.error.URLError) as exc:
        result["webhook_error"] = str(exc)
        log.error("alert %s: webhook %s failed: %s", alert.alert_id, url, exc)
        failure = Alert(
            kind="webhook_failed",
            severity="warning",
            message=f"could not POST alert {alert.alert_id} to the webhook: {exc}",
            dag_id=alert.dag_id,
            run_id=alert.run_id,
            task_id=alert.task_id,
            details={"alert_id": alert.alert_id},
        )
        with contextlib.suppress(OSError):
            append_record(chosen, failure.to_dict())
    return result


# --------------------------------------------------------------------------------------------
# Airflow callbacks (the context is read as a mapping; Airflow is never imported here)


def _attr(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def task_failure_callback(context: Mapping[str, Any]) -> None:
    """``on_failure_callback`` of every task: record a ``task_failed`` alert (never raises)."""
    try:
        ti = context.get("ti") or context.get("task_instance")
        dag_run = context.get("dag_run")
        exception = context.get("exception")
        alert = Alert(
            kind="task_failed",
            severity="error",
            message=(f"{type(exception).__name__}: {exception}" if exception else "task failed")[:2000],
            dag_id=_attr(ti, "dag_id") or _attr(dag_run, "dag_id"),
            run_id=_attr(ti, "run_id") or _attr(dag_run, "run_id"),
            task_id=_attr(ti, "task_id"),
            try_number=_attr(ti, "try_number"),
            logical_date=_iso(_attr(dag_run, "logical_date")),
            details={"log_url": _attr(ti, "log_url")},
        )
        send_alert(alert)
    except Exception:  # an alert must never mask the original failure
        log.exception("could not raise the failure alert")


def deadline_missed_callback(context: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline-alert callback (``SyncCallback``): a DAG run outlived its deadline.

    The scheduler passes ``context={"dag_run": {...}, "deadline": {...}}`` plus the ``kwargs``
    given in the DAG (``dag_id``, ``limit``).
    """
    try:
        dag_run = (context or {}).get("dag_run") or {}
        deadline = (context or {}).get("deadline") or {}
        dag_id = _attr(dag_run, "dag_id") or kwargs.get("dag_id")
        limit = kwargs.get("limit", "its deadline")
        alert = Alert(
            kind="deadline_missed",
            severity="warning",
            message=f"run still not finished {limit} after it was queued",
            dag_id=dag_id,
            run_id=_attr(dag_run, "dag_run_id") or _attr(dag_run, "run_id"),
            logical_date=_iso(_attr(dag_run, "logical_date")),
            details={
                "deadline_time": _iso(_attr(deadline, "deadline_time")),
                "queued_at": _iso(_attr(dag_run, "queued_at")),
                "state": _attr(dag_run, "state"),
            },
        )
        send_alert(alert)
    except Exception:
        log.exception("could not raise the deadline alert")
