"""Run a ``gw`` command and stop its whole process group at a chosen point, for the test to SIGKILL.

    python -m tests.integration.kill_harness land --home H
    python -m tests.integration.kill_harness --publish-only H

The point comes from the environment, so the loaders need no test hook of their own:

- ``GW_TEST_KILL_POINT`` — which filesystem step to stop after (before, for ``before_publish``):
  ``staged_write`` (a Parquet row group written into ``lake/_staging``), ``partition_moved``
  (a partition file renamed into ``lake/events``), ``manifest_written`` (a manifest renamed into
  ``lake/_manifest``), ``archived`` (an inbox file moved to ``archive/``), ``before_publish`` (the
  published file's atomic rename is about to happen; the new copy is complete under a temp name);
- ``GW_TEST_KILL_NTH`` — stop at the N-th occurrence, counted across every process of the group
  (landing may fork workers);
- ``GW_TEST_KILL_MARKER`` — a file written when the point is reached.

At the point the process writes the marker and sends SIGSTOP to its own process group; the test
sees the marker and SIGKILLs the group. No code after the point runs, in any process of the group.
Without ``GW_TEST_KILL_POINT`` the command runs normally. ``GW_TEST_ENOSPC_AFTER=N`` instead makes
the N-th and later Parquet writes fail with ENOSPC (a full disk, simulated where no tmpfs can be
mounted).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

POINT = os.environ.get("GW_TEST_KILL_POINT", "")
NTH = int(os.environ.get("GW_TEST_KILL_NTH", "1"))
MARKER = os.environ.get("GW_TEST_KILL_MARKER", "")
COUNTER = MARKER + ".count"


def _reached() -> None:
    """Count one occurrence (atomically, across processes); stop the group at the N-th."""
    fd = os.open(COUNTER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, b"x")
        occurrence = os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        os.close(fd)
    if occurrence == NTH:
        with open(MARKER, "w") as marker:
            marker.write(f"{POINT} #{NTH} in pid {os.getpid()}\n")
        os.killpg(os.getpgrp(), signal.SIGSTOP)


#: Points reached right after a rename whose destination lies in this folder (temp names excluded).
_AFTER_RENAME_INTO = {
    "partition_moved": f"{os.sep}lake{os.sep}events{os.sep}",
    "manifest_written": f"{os.sep}lake{os.sep}_manifest{os.sep}",
    "archived": f"{os.sep}archive{os.sep}",
}


def _wrap_rename(original: Callable[..., Any]) -> Callable[..., Any]:
    def renamed(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        target = os.fspath(dst)
        if POINT == "before_publish" and target.endswith(os.path.join("published", "warehouse.duckdb")):
            _reached()
        result = original(src, dst, *args, **kwargs)
        folder = _AFTER_RENAME_INTO.get(POINT)
        if folder and folder in target and not os.path.basename(target).startswith("."):
            _reached()
        return result

    return renamed


def _inject_enospc(after: int) -> None:
    """Make the ``after``-th and later Parquet writes fail as on a full disk (ENOSPC)."""
    import errno

    import pyarrow.parquet as pq

    original = pq.ParquetWriter.write_table

    def write_table(self: Any, *args: Any, **kwargs: Any) -> Any:
        fd = os.open(COUNTER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, b"x")
            occurrence = os.lseek(fd, 0, os.SEEK_CUR)
        finally:
            os.close(fd)
        if occurrence >= after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, *args, **kwargs)

    pq.ParquetWriter.write_table = write_table  # type: ignore[method-assign]


def install() -> None:
    """Patch the filesystem primitives every writer goes through (inherited by forked workers)."""
    if os.environ.get("GW_TEST_ENOSPC_AFTER"):
        _inject_enospc(int(os.environ["GW_TEST_ENOSPC_AFTER"]))
    if not POINT:
        return
    os.replace = _wrap_rename(os.replace)
    os.rename = _wrap_rename(os.rename)
    if POINT == "staged_write":
        import pyarrow.parquet as pq

        original = pq.ParquetWriter.write_table

        def write_table(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            _reached()
            return result

        pq.ParquetWriter.write_table = write_table  # type: ignore[method-assign]


def main() -> None:
    install()
    if sys.argv[1:2] == ["--publish-only"]:  # only the publish step of a build, for one home
        from gw.config import warehouse_paths
        from gw.pipeline import publish

        publish(warehouse_paths(sys.argv[2]))
        return
    from gw.cli import app

    app(sys.argv[1:])


if __name__ == "__main__":
    main()
