"""Crashes and broken environments: real ``gw land`` / ``gw build`` subprocesses are SIGKILLed at
several points, the disk fills up, an inbox file cannot be read, the dbt target is missing — and the
re-run always ends with the tables of one uninterrupted run, losing nothing.

Kill points are reached deterministically: ``tests/integration/kill_harness.py`` wraps the command
and stops its process group right after a chosen filesystem step (see there); dbt is killed when
its log file shows the N-th node starting or finishing. A full disk is a real, tiny ``tmpfs``
mounted over the folder when the test may mount (root, or passwordless sudo); otherwise the
landing's ENOSPC is injected in the subprocess and the build's full-disk step is skipped (said in
the skip reason).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil
import pytest

from gw.config import REPO_ROOT, WarehousePaths
from gw.generator import GeneratedSample
from gw.orchestration import reconcile_lake
from tests.integration.conftest import GW, RUN_DATE, gw, new_home
from tests.warehouse_tables import differing_tables, table_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HARNESS = [sys.executable, "-m", "tests.integration.kill_harness"]


# ------------------------------------------------------------------------------------------------
# helpers: killing


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_until(
    args: list[str], env: dict[str, str], reached: Callable[[], bool], *, timeout: float = 300
) -> tuple[int | None, str]:
    """Start ``args`` in a new process group; SIGKILL the group as soon as ``reached()``.

    Returns ``(returncode, output)``; the return code is ``-9`` when the kill happened.
    """
    process = subprocess.Popen(
        args, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if reached():
                _kill_group(process)
                break
            time.sleep(0.01)
        else:
            if process.poll() is None:
                _kill_group(process)
                raise TimeoutError(f"{args} ran for more than {timeout} s")
        output, _ = process.communicate(timeout=60)
    finally:
        _kill_group(process)
    return process.returncode, output.decode(errors="replace")


def land_killed_at(paths: WarehousePaths, point: str, nth: int, tmp: Path) -> tuple[int | None, str]:
    marker = tmp / f"kill-{point}-{nth}"
    env = _env(GW_TEST_KILL_POINT=point, GW_TEST_KILL_NTH=str(nth), GW_TEST_KILL_MARKER=str(marker))
    returncode, output = run_until([*HARNESS, "land", "--home", str(paths.home)], env, marker.exists)
    assert marker.exists(), f"kill point {point} #{nth} was never reached:\n{output}"
    return returncode, output


def _dbt_log_count(log: Path, needle: str) -> int:
    try:
        return log.read_text(errors="replace").count(needle)
    except FileNotFoundError:
        return 0


def _dbt_children(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if any("dbt" in part for part in c.cmdline()[:2])]


# ------------------------------------------------------------------------------------------------
# helpers: the lake as tables


@dataclass(frozen=True)
class LakeState:
    """The landed result, minus the moment of landing (``loaded_at``, ``quarantined_at``)."""

    events: tuple[tuple[object, ...], ...]
    quarantine: tuple[tuple[object, ...], ...]
    manifests: frozenset[str]
    partition_files: frozenset[str]
    archived: frozenset[str]
    inbox_left: frozenset[str]


def lake_state(paths: WarehousePaths) -> LakeState:
    events: list[tuple[object, ...]] = []
    quarantine: list[tuple[object, ...]] = []
    with duckdb.connect() as connection:
        if any((paths.lake / "events").rglob("*.parquet")):
            events = connection.execute(
                f"select * exclude (loaded_at) from read_parquet('{paths.lake}/events/**/*.parquet', "
                "hive_partitioning = true)"
            ).fetchall()
        if any((paths.quarantine / "events").glob("*.parquet")):
            quarantine = connection.execute(
                f"select * exclude (quarantined_at) from read_parquet('{paths.quarantine}/events/*.parquet')"
            ).fetchall()

    def names(folder: Path, pattern: str = "**/*") -> frozenset[str]:
        return frozenset(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())

    return LakeState(
        events=tuple(sorted(events, key=repr)),
        quarantine=tuple(sorted(quarantine, key=repr)),
        manifests=names(paths.lake / "_manifest", "*.json"),
        partition_files=names(paths.lake / "events"),
        archived=names(paths.archive),
        inbox_left=names(paths.inbox),
    )


def assert_consistent_after_a_crash(paths: WarehousePaths) -> None:
    """What a crash may leave: only whole files in the lake, or a staging folder the next landing
    undoes. Never a manifest without its partitions, never an archived file without its manifest."""
    audit = reconcile_lake(paths)
    staging = paths.lake / "_staging"
    in_flight = {p.name for p in staging.iterdir()} if staging.is_dir() else set()
    for problem in audit.problems or []:
        assert any(h in problem for h in in_flight), problem
    assert len(list(paths.archive.rglob("*"))) >= 0


@pytest.fixture(scope="module")
def reference_lake(reference_warehouse: WarehousePaths) -> LakeState:
    return lake_state(reference_warehouse)


# ------------------------------------------------------------------------------------------------
# landing


@pytest.mark.parametrize(
    ("point", "nth"),
    [
        ("staged_write", 2),  # a file half written into lake/_staging
        ("partition_moved", 3),  # some partitions of a file in lake/events, no manifest yet
        ("manifest_written", 4),  # a file landed, its inbox copy not archived yet
        ("archived", 5),  # between two files
    ],
)
def test_a_landing_killed_at_a_step_then_rerun_equals_an_uninterrupted_landing(
    point: str,
    nth: int,
    sample_inbox: tuple[Path, GeneratedSample],
    reference_lake: LakeState,
    tmp_path: Path,
) -> None:
    paths = new_home(tmp_path / "home", sample_inbox[0])
    returncode, _ = land_killed_at(paths, point, nth, tmp_path)
    assert returncode == -signal.SIGKILL
    assert_consistent_after_a_crash(paths)
    gw("land", home=paths.home)
    assert lake_state(paths) == reference_lake
    audit = reconcile_lake(paths)
    assert audit.problems == [] and not any((paths.lake / "_staging").glob("*"))


def test_a_landing_killed_after_an_arbitrary_delay_then_rerun_equals_an_uninterrupted_landing(
    sample_inbox: tuple[Path, GeneratedSample], reference_lake: LakeState, tmp_path: Path
) -> None:
    paths = new_home(tmp_path / "home", sample_inbox[0])
    started = time.monotonic()
    returncode, _ = run_until(
        [GW, "land", "--home", str(paths.home)], _env(), lambda: time.monotonic() - started > 1.5
    )
    assert_consistent_after_a_crash(paths)
    gw("land", home=paths.home)
    assert lake_state(paths) == reference_lake, f"killed with {returncode}"


def test_an_unreadable_inbox_file_is_reported_kept_and_landed_once_readable(
    sample_inbox: tuple[Path, GeneratedSample], reference_lake: LakeState, tmp_path: Path
) -> None:
    paths = new_home(tmp_path / "home", sample_inbox[0])
    victim = sorted(p for p in paths.inbox.rglob("*") if p.is_file() and not p.name.endswith(".meta.json"))[0]
    victim.chmod(0)
    # root reads anything: drop the capabilities that bypass file permissions for the command
    prefix = (
        [
            "setpriv",
            "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search",
        ]
        if os.geteuid() == 0
        else []
    )
    completed = subprocess.run(
        [*prefix, GW, "land", "--home", str(paths.home)], capture_output=True, text=True, check=False
    )
    victim.chmod(0o644)
    relative = victim.relative_to(paths.inbox).as_posix()
    assert completed.returncode == 0, completed.stderr
    assert relative in completed.stderr and "Permission denied" in completed.stderr
    assert victim.exists(), "the unreadable file must stay in the inbox"
    assert relative not in lake_state(paths).archived
    gw("land", home=paths.home)
    assert lake_state(paths) == reference_lake


# ------------------------------------------------------------------------------------------------
# a full disk


def _can_mount() -> list[str] | None:
    """The command prefix that may mount a tmpfs here (``[]`` as root, ``["sudo", "-n"]``), or None."""
    if sys.platform != "linux" or os.environ.get("GW_TEST_NO_MOUNT"):
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Callable[[str], None]]:
    """Mount a tmpfs of ``size`` over ``folder``; yields ``resize(new_size)``; unmounts after."""
    prefix = _can_mount()
    assert prefix is not None
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*prefix, "mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(folder)], check=True
    )

    def resize(new_size: str) -> None:
        subprocess.run([*prefix, "mount", "-o", f"remount,size={new_size}", str(folder)], check=True)

    try:
        yield resize
    finally:
        subprocess.run([*prefix, "umount", "-l", str(folder)], check=False)


def test_a_full_disk_stops_the_landing_with_a_clear_error_and_loses_nothing(
    sample_inbox: tuple[Path, GeneratedSample], reference_lake: LakeState, tmp_path: Path
) -> None:
    paths = new_home(tmp_path / "home", sample_inbox[0])
    inbox_files = {p.relative_to(paths.inbox).as_posix() for p in paths.inbox.rglob("*") if p.is_file()}
    if _can_mount() is not None:
        with tmpfs(paths.lake, "256k") as resize:
            completed = gw("land", home=paths.home, check=False)
            assert completed.returncode != 0
            # the error names the path it could not write and the reason (rich may wrap lines)
            assert f"LakeWriteError:cannotwrite{paths.lake}/" in _squeezed(completed.stderr)
            assert "Nospaceleftondevice" in _squeezed(completed.stderr)
            _assert_nothing_lost(paths, inbox_files)
            resize("64m")
            gw("land", home=paths.home)
            assert lake_state(paths) == reference_lake
    else:  # simulated: the 3rd Parquet write raises ENOSPC in the landing subprocess
        marker = tmp_path / "enospc"
        completed = subprocess.run(
            [*HARNESS, "land", "--home", str(paths.home)],
            env=_env(GW_TEST_ENOSPC_AFTER="3", GW_TEST_KILL_MARKER=str(marker)),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode != 0 and "No space left on device" in completed.stderr
        _assert_nothing_lost(paths, inbox_files)
        gw("land", home=paths.home)
        assert lake_state(paths) == reference_lake


def _squeezed(text: str) -> str:
    return re.sub(r"[\s│]+", "", text)


def _assert_nothing_lost(paths: WarehousePaths, inbox_files: set[str]) -> None:
    """Every inbox file is still in the inbox, or landed whole (manifest) and archived."""
    state = lake_state(paths)
    assert len(state.inbox_left) + len(state.archived) == len(inbox_files)
    assert_consistent_after_a_crash(paths)


# ------------------------------------------------------------------------------------------------
# the build


def test_builds_killed_at_several_points_then_rerun_equal_an_uninterrupted_build(
    sample_inbox: tuple[Path, GeneratedSample],
    reference_warehouse: WarehousePaths,
    tmp_path: Path,
) -> None:
    """One warehouse through a series of crashes; after each, the next run starts from the mess.

    1. SIGKILL only the dbt process when its 3rd model starts (``gw build`` must fail clearly);
    2. SIGKILL ``gw build`` and dbt together when the 12th node has finished;
    3. (when a tmpfs can be mounted: root, or passwordless sudo as on CI runners) the build folder
       fills up → ``gw build`` fails naming ENOSPC, nothing is published;
    4. rerun (with space again) to completion → the same build and published tables as the reference;
    5. SIGKILL a publish right before its atomic rename → the last publish is untouched and readable.
    """
    paths = new_home(tmp_path / "home", sample_inbox[0])
    gw("land", home=paths.home)
    dbt_log = tmp_path / "dbt-logs" / "dbt.log"
    build = [GW, "build", "--home", str(paths.home), "--run-date", RUN_DATE.isoformat()]
    env = _env(DBT_LOG_PATH=str(dbt_log.parent))
    mount = _can_mount()
    with tmpfs(paths.build_db.parent, "512m") if mount is not None else _nothing() as resize:
        # 1. kill dbt alone at the start of its 3rd model
        process = subprocess.Popen(build, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        killed = False
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            if _dbt_log_count(dbt_log, "Began running node model.") >= 3:
                for child in _dbt_children(process.pid):
                    child.kill()
                    killed = True
                break
            time.sleep(0.01)
        output = process.communicate(timeout=120)[0].decode(errors="replace")
        assert killed and process.returncode == 1, output
        assert "dbt build failed" in output
        assert not paths.published_db.exists()

        # 2. kill the whole command when the 12th node has finished
        dbt_log.unlink()
        returncode, _ = run_until(build, env, lambda: _dbt_log_count(dbt_log, "Finished running node") >= 12)
        assert returncode == -signal.SIGKILL
        assert not paths.published_db.exists()

        # 3. the disk fills up during the next build
        if resize is not None:
            resize(str(shutil.disk_usage(paths.build_db.parent).used + 256 * 1024))
            completed = gw("build", "--run-date", RUN_DATE.isoformat(), home=paths.home, check=False)
            assert completed.returncode == 1
            assert "No space left on device" in completed.stdout + completed.stderr
            assert not paths.published_db.exists()
            resize("512m")

        # 4. rerun to completion
        gw("build", "--run-date", RUN_DATE.isoformat(), home=paths.home)
        assert differing_tables(paths.build_db, reference_warehouse.build_db) == {}
        assert differing_tables(paths.published_db, reference_warehouse.published_db) == {}
        published = paths.published_db.read_bytes()

        # 5. kill a publish right before the atomic rename of the new copy
        marker = tmp_path / "before-publish"
        returncode, _ = run_until(
            [*HARNESS, "--publish-only", str(paths.home)],
            _env(GW_TEST_KILL_POINT="before_publish", GW_TEST_KILL_MARKER=str(marker)),
            marker.exists,
        )
        assert marker.exists() and returncode == -signal.SIGKILL
        assert paths.published_db.read_bytes() == published
        table_rows(paths.published_db)  # still opens and reads


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def test_a_missing_dbt_target_fails_clearly_and_keeps_the_last_publish(
    reference_warehouse: WarehousePaths, tmp_path: Path
) -> None:
    paths = WarehousePaths(tmp_path / "home")
    shutil.copytree(reference_warehouse.home, paths.home)
    published = paths.published_db.read_bytes()
    completed = subprocess.run(
        [GW, "build", "--home", str(paths.home), "--run-date", RUN_DATE.isoformat()],
        env=_env(GW_DBT_TARGET="nowhere"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "nowhere" in completed.stdout and "target" in completed.stdout
    assert paths.published_db.read_bytes() == published
