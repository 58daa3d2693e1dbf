"""The landing DAG's tasks called directly (no scheduler): what they log, announce and alert."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gw.airflow_local import DAGS_FOLDER
from gw.alerts import read_alerts
from gw.config import warehouse_paths

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def landing(airflow_db: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "gw_landing.py"))
    assert bag.import_errors == {}
    return bag.dags["gw_landing"]


def _manifest(home: Path, source_hash: str) -> None:
    folder = home / "lake" / "_manifest"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{source_hash}.json").write_text(json.dumps({"source_hash": source_hash}))


def test_an_unreadable_inbox_file_is_logged_and_alerted_while_the_landing_succeeds(
    landing: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from loaders.land import LandingReport

    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    report = LandingReport(files_seen=2, files_landed=1, files_quarantined=1, events_landed=7)
    report.events_quarantined = {"internal_error": 1, "unknown_project": 2}
    report.files = [
        {"source_name": "a.json", "outcome": "landed"},
        {"source_name": "locked.json", "outcome": "unreadable", "detail": "[Errno 13] Permission denied"},
    ]
    monkeypatch.setattr("gw.pipeline.land", lambda paths: report)
    counts = landing.get_task("land_inbox").python_callable()
    logged = capsys.readouterr().out
    assert counts["events_landed"] == 7 and counts["files_landed"] == 1
    assert "quarantined reason=unknown_project count=2" in logged
    assert "file locked.json: unreadable [Errno 13] Permission denied" in logged
    (alert,) = read_alerts(warehouse_paths(tmp_path))
    assert alert["kind"] == "landing_problem" and alert["details"]["files"][0]["source_name"] == "locked.json"


def test_the_announcement_is_skipped_when_nothing_new_was_landed(
    landing: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from dags.common import LANDED_EVENTS

    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    announce = landing.get_task("announce_landed_events").python_callable
    outlet_events = {LANDED_EVENTS: SimpleNamespace(extra=None)}
    with pytest.raises(AirflowSkipException):
        announce({"events_landed": 0}, outlet_events=outlet_events)
    _manifest(tmp_path, "a" * 64)
    watermark = announce({"events_landed": 3}, outlet_events=outlet_events)
    assert watermark["manifests"] == 1
    assert outlet_events[LANDED_EVENTS].extra["watermark"] == watermark
    with pytest.raises(AirflowSkipException):  # announced once, not again
        announce({"events_landed": 0}, outlet_events=outlet_events)
