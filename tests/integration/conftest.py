"""Shared inputs of the integration tests: one seeded sample and one uninterrupted reference build.

Tests that show "a crash, a catch-up or a real scheduler ends with the same tables as one
uninterrupted run" compare against :func:`reference_warehouse`: the same capture files (copied
with their modification times, which become ``received_at`` when no sidecar says otherwise), landed
by ``gw land`` and built by ``gw build`` once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gw.config import WarehousePaths, warehouse_paths
from gw.generator import GeneratedSample, GeneratorSettings, generate

GW = str(Path(sys.executable).with_name("gw"))
#: The sample every comparison uses: small, but with every input shape and bad input.
SAMPLE = GeneratorSettings(events=3_000, groups=8, persons=40, days=10, seed=7)
#: ``run_date`` of every build that is compared with another: the day after the sample ends (models
#: never read the clock; insights resolve relative date ranges against it).
RUN_DATE = date(2026, 10, 11)


@pytest.fixture(scope="session")
def sample_inbox(session_dir: Path) -> tuple[Path, GeneratedSample]:
    """The seeded sample's capture files, written once per session."""
    folder = session_dir / "sample-inbox"
    sample = generate(folder, SAMPLE)
    return folder, sample


def new_home(root: Path, inbox: Path) -> WarehousePaths:
    """A fresh warehouse home under ``root`` with the demo projects and a copy of ``inbox``."""
    paths = warehouse_paths(root).ensure()
    paths.write_demo_projects()
    shutil.copytree(inbox, paths.inbox, dirs_exist_ok=True)  # copy2 keeps modification times
    return paths


def gw(*args: str, home: Path, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the ``gw`` command (a real subprocess, as users run it)."""
    completed = subprocess.run(
        [GW, *args, "--home", str(home)], capture_output=True, text=True, check=False, **kwargs
    )  # type: ignore[call-overload]
    if check and completed.returncode != 0:
        raise AssertionError(
            f"gw {' '.join(args)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    return completed


@pytest.fixture(scope="session")
def reference_warehouse(
    tmp_path_factory: pytest.TempPathFactory, sample_inbox: tuple[Path, GeneratedSample], dbt_manifest: Path
) -> WarehousePaths:
    """The sample landed and built once, without interruption (``gw land`` + ``gw build``)."""
    paths = new_home(tmp_path_factory.mktemp("reference"), sample_inbox[0])
    gw("land", home=paths.home)
    gw("build", "--run-date", RUN_DATE.isoformat(), home=paths.home)
    return paths
