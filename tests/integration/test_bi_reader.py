"""A BI tool holds the published file open while the pipeline builds and publishes.

The reader is a separate process connecting through SQLAlchemy + duckdb-engine, as Superset or
Metabase-style tools do. It must never see an error or a mixture of two publishes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gw.config import warehouse_paths
from gw.generator import GeneratorSettings, generate
from gw.pipeline import audit, build, land, publish

pytestmark = pytest.mark.integration

READER = textwrap.dedent(
    """
    import json, os, sys, time
    import sqlalchemy as sa

    path, out, stop_file, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    query = sa.text(
        "select (select count(*) from marts.fct_events), (select count(*) from marts.fct_event_groups), "
        "(select coalesce(sum(events), 0) from marts.fct_daily_active_groups)"
    )

    def engine():
        return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool)

    held = engine().connect() if mode == "held" else None
    deadline = time.monotonic() + 300
    with open(out, "w") as sink:
        while time.monotonic() < deadline and not os.path.exists(stop_file):
            try:
                if held is not None:
                    row = held.execute(query).fetchone()
                else:
                    with engine().connect() as connection:
                        row = connection.execute(query).fetchone()
                sink.write(json.dumps({"row": list(row)}) + "\\n")
            except Exception as exc:  # the test asserts there are none
                sink.write(json.dumps({"error": repr(exc)}) + "\\n")
            sink.flush()
            time.sleep(0.05)
    """
)


def _state(paths_published: Path) -> tuple[int, int, int]:
    import duckdb

    with duckdb.connect(str(paths_published), read_only=True) as connection:
        row = connection.execute(
            "select (select count(*) from marts.fct_events), (select count(*) from marts.fct_event_groups), "
            "(select coalesce(sum(events), 0) from marts.fct_daily_active_groups)"
        ).fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]), int(row[2]))


def test_readers_never_see_errors_or_half_published_state(tmp_path: Path) -> None:
    paths = warehouse_paths(tmp_path / "home").ensure()
    paths.write_demo_projects()
    generate(paths.inbox, GeneratorSettings(events=1_500, groups=5, persons=20, days=5, seed=1))
    land(paths)
    build(paths)
    audit(paths)
    publish(paths)
    before = _state(paths.published_db)

    outputs = {mode: tmp_path / f"reader-{mode}.jsonl" for mode in ("held", "reconnecting")}
    stop_file = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(paths.published_db), str(out), str(stop_file), mode]
        )
        for mode, out in outputs.items()
    ]
    try:
        time.sleep(2)
        generate(paths.inbox, GeneratorSettings(events=1_500, groups=5, persons=20, days=5, seed=2))
        land(paths)
        build(paths)
        audit(paths)
        publish(paths)
        after = _state(paths.published_db)
        time.sleep(2)
    finally:
        stop_file.touch()
        for reader in readers:
            reader.wait(timeout=60)

    assert after != before
    observations = {
        mode: [json.loads(line) for line in out.read_text().splitlines()] for mode, out in outputs.items()
    }
    for mode, seen in observations.items():
        assert seen, mode
        assert [o for o in seen if "error" in o] == [], mode
    held_rows = {tuple(o["row"]) for o in observations["held"]}
    assert held_rows == {before}
    reconnecting_rows = [tuple(o["row"]) for o in observations["reconnecting"]]
    assert set(reconnecting_rows) <= {before, after}
    assert reconnecting_rows[0] == before and reconnecting_rows[-1] == after
