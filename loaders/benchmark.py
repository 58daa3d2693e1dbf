"""Measure landing throughput on generated capture bodies.

    python -m loaders.benchmark --events 300000 --per-file 1000 [--workers N] [--days D]

Writes plain ``{api_key, sent_at, batch}`` bodies (posthog-python style, ~350 bytes an event)
into a temporary warehouse home, lands them with :func:`loaders.land.land_inbox` and prints
events per second.  Imports are warmed first, so the figure is steady-state throughput.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import msgspec

from gw.config import warehouse_paths


def write_bodies(inbox: Path, events: int, per_file: int, days: int, seed: int = 1) -> int:
    """Write ``events`` events in bodies of ``per_file``; returns the bytes written."""
    rng = random.Random(seed)
    encode = msgspec.json.Encoder().encode
    names = ["$pageview", "signed_up", "order_placed", "$autocapture", "$groupidentify"]
    written = 0
    for number in range(max(1, events // per_file)):
        batch = [
            {
                "event": rng.choice(names),
                "distinct_id": f"user_{rng.randrange(5000)}",
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "timestamp": f"2024-05-{1 + (number + rng.randrange(days)) % 28:02d}T"
                f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.{rng.randrange(1000):03d}Z",
                "properties": {
                    "$current_url": f"https://example.com/p/{rng.randrange(100)}",
                    "$browser": "Chrome",
                    "$os": "Mac OS X",
                    "$lib": "posthog-python",
                    "$lib_version": "7.0.0",
                    "plan": rng.choice(["free", "pro"]),
                    "amount": round(rng.random() * 100, 2),
                    "$groups": {"company": f"c_{rng.randrange(300)}", "team": f"t_{rng.randrange(50)}"},
                },
            }
            for _ in range(per_file)
        ]
        body = encode({"api_key": "phc_demo_production_key", "sent_at": None, "batch": batch})
        (inbox / f"batch_{number:06d}.json").write_bytes(body)
        written += len(body)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--per-file", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1, help="days the events of one body spread over")
    parser.add_argument("--workers", type=int, help="GW_LAND_WORKERS (default: automatic)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary warehouse home")
    args = parser.parse_args()
    if args.workers:
        os.environ["GW_LAND_WORKERS"] = str(args.workers)

    import pyarrow as pa

    from loaders.land import land_inbox

    pa.array([1])  # pyarrow probes for pandas on its first conversion: a one-off import cost
    home = Path(tempfile.mkdtemp(prefix="gw-land-bench-"))
    try:
        paths = warehouse_paths(home).ensure()
        size = write_bodies(paths.inbox, args.events, args.per_file, args.days)
        paths.write_demo_projects()
        projects = paths.load_projects()
        started = time.perf_counter()
        report = land_inbox(paths, projects)
        elapsed = time.perf_counter() - started
        print(report.summary())
        print(
            f"{report.events_landed} events ({size / 1e6:.1f} MB in {report.files_seen} files of "
            f"{args.per_file}) landed in {elapsed:.2f} s: {report.events_landed / elapsed:,.0f} events/s, "
            f"{size / 1e6 / elapsed:.1f} MB/s"
        )
    finally:
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
