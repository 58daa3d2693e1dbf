"""Record what the real PostHog server SDKs put on the wire, as landing test fixtures.

    .venv/bin/python tools/record_fixtures/record.py [--out tests/fixtures/recordings]
        [--posthog 7.91.1] [--posthog-node 5.70.0] [--only python|node] [--keep-temp]

1. installs ``posthog`` (PyPI) with ``pip install --target`` and ``posthog-node`` (npm) with
   ``npm install`` into a temporary folder (nothing is added to the project's pins; no npm
   lock file is written or kept);
2. starts a loopback HTTP sink (``http.server`` on 127.0.0.1, a random port) that writes each
   request body to ``<out>/<client>/<NN>-<scenario>.body`` and its sidecar ``<file>.meta.json``
   (``method``, ``path`` with query string, ``headers`` as ``[name, value]`` pairs in wire
   order, ``received_at`` ISO-8601 UTC), as ``docs/contracts.md`` describes the inbox;
3. drives each SDK through the scenarios below (the Python one in a child process of this
   script, the Node one with ``record_node.mjs``); before each scenario the driver tells the
   sink its name through ``POST /__recorder__/scenario`` (not recorded), and may ask it to
   answer the next capture request with 503 so the SDK retries the same batch;
4. writes ``<out>/<client>/index.json``: SDK and runtime versions, every call the driver made
   (method and arguments, and the uuid the SDK returned where it returns one) and every
   request (file, scenario, path, HTTP status the sink answered).

Scenarios (one SDK client object each, flushed explicitly so each is one request):
``plain`` / ``gzip`` (identify-type calls, captures with groups, group identifies, an alias; the
same calls in both), ``large`` (200 captures in one batch), ``retry`` (the first attempt gets 503)
and ``v1`` (the opt-in ``/i/v1/analytics/events`` endpoint: ``{created_at, batch}`` with the key
in ``Authorization: Bearer``).

The recordings are committed; the tests land them with no network.  Re-recording changes every
uuid and time in them, so the tests read ``index.json`` rather than hard-coding values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "recordings"
CONTROL_PATH = "/__recorder__/scenario"

#: The project api keys the recordings are made with (the tests configure them in projects.yml).
API_KEYS = {"python": "phc_recorder_python_key", "node": "phc_recorder_node_key"}
#: Events in the ``large`` scenario.
LARGE_BATCH = 200


# --------------------------------------------------------------------------------------------
# the sink


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Sink:
    """Writes every request body (and its sidecar) under ``out/<client>/``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.client: str | None = None
        self.scenario = "unnamed"
        self.fail_next = 0
        self.requests: dict[str, list[dict[str, Any]]] = {}

    def control(self, body: bytes) -> None:
        command = json.loads(body)
        with self.lock:
            self.client = command["client"]
            self.scenario = command["scenario"]
            self.fail_next = int(command.get("fail_next", 0))

    def record(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> int:
        """Store one request; returns the HTTP status to answer."""
        received_at = _now_iso()
        with self.lock:
            client = self.client or "unknown"
            status = 200
            if self.fail_next > 0:
                self.fail_next -= 1
                status = 503
            requests = self.requests.setdefault(client, [])
            name = f"{len(requests) + 1:02d}-{self.scenario}.body"
            folder = self.out / client
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(body)
            meta = {"method": method, "path": path, "headers": headers, "received_at": received_at}
            (folder / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            requests.append(
                {"file": name, "scenario": self.scenario, "path": path, "status": status, "bytes": len(body)}
            )
        return status


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self._body()
            if self.path == CONTROL_PATH:
                sink.control(body)
                self._answer(200, {"ok": True})
                return
            status = sink.record("POST", self.path, list(self.headers.items()), body)
            if status != 200:
                self._answer(status, {"error": "recorder: simulated outage, retry"})
            elif self.path.startswith("/i/v1/"):
                self._answer(200, {"results": {}})  # absent uuids count as accepted
            else:
                self._answer(200, {"status": 1})

        def do_GET(self) -> None:
            self._answer(404, {"error": "the recorder only takes captures"})

    return Handler


# --------------------------------------------------------------------------------------------
# the Python driver (runs in a child process that can import the installed posthog)


def _scenario(sink_url: str, client: str, scenario: str, fail_next: int = 0) -> None:
    body = json.dumps({"client": client, "scenario": scenario, "fail_next": fail_next}).encode()
    request = urllib.request.Request(sink_url + CONTROL_PATH, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def drive_python(sink_url: str, calls_path: Path) -> None:
    """Make the recorded calls with posthog-python (imported from ``PYTHONPATH``)."""
    import posthog  # installed by the parent into a temporary folder

    calls: list[dict[str, Any]] = []
    key = API_KEYS["python"]

    def run(scenario: str, client_options: dict[str, Any], make_calls: Any, fail_next: int = 0) -> None:
        _scenario(sink_url, "python", scenario, fail_next)
        client = posthog.Client(
            key, host=sink_url, flush_at=1000, flush_interval=60, max_retries=3, **client_options
        )

        def call(method: str, *args: Any, **kwargs: Any) -> None:
            returned = getattr(client, method)(*args, **kwargs)
            calls.append(
                {
                    "scenario": scenario,
                    "method": method,
                    "args": list(args),
                    "kwargs": kwargs,
                    "uuid": returned,
                }
            )

        make_calls(call)
        client.flush()
        client.shutdown()

    def identity_calls(call: Any) -> None:
        call("set", distinct_id="py-user-1", properties={"email": "ada@example.com", "name": "Ada"})
        call("set_once", distinct_id="py-user-1", properties={"first_plan": "free"})
        call(
            "capture",
            "$pageview",
            distinct_id="py-user-1",
            properties={"$current_url": "https://example.com/pricing", "$set": {"plan": "pro"}},
            groups={"company": "acme", "team": 42},
        )
        call(
            "capture",
            "order placed",
            distinct_id=12345,
            properties={
                "amount": 12.5,
                "note": "caf\u00e9 \U0001f994",
                "big": 2**60 + 1,
                "nested": {"a": [1]},
            },
            groups={"company": "acme"},
        )
        call(
            "group_identify",
            "company",
            "acme",
            {"name": "Acme Inc", "employees": 50},
            distinct_id="py-user-1",
        )
        call("group_identify", "team", 42, {"name": "Platform"})
        call("alias", previous_id="py-anon-1", distinct_id="py-user-1")

    def large_calls(call: Any) -> None:
        for n in range(LARGE_BATCH):
            call(
                "capture",
                "bulk event",
                distinct_id=f"py-bulk-{n % 17}",
                properties={"n": n, "path": f"/page/{n % 9}", "$set": {"last_n": n}}
                if n % 50 == 0
                else {"n": n},
                groups={"company": f"c-{n % 5}"},
            )

    def retry_calls(call: Any) -> None:
        for n in range(3):
            call(
                "capture",
                "retried event",
                distinct_id="py-user-2",
                properties={"n": n},
                groups={"company": "acme"},
            )

    def v1_calls(call: Any) -> None:
        call("set", distinct_id="py-user-3", properties={"email": "v1@example.com"})
        call(
            "capture", "v1 event", distinct_id="py-user-3", properties={"k": "v"}, groups={"company": "acme"}
        )
        call("group_identify", "company", "acme", {"plan": "enterprise"}, distinct_id="py-user-3")
        call("alias", previous_id="py-anon-3", distinct_id="py-user-3")

    run("plain", {}, identity_calls)
    run("gzip", {"gzip": True}, identity_calls)
    run("large", {}, large_calls)
    run("retry", {"gzip": True}, retry_calls, fail_next=1)
    run("v1", {"capture_mode": "v1"}, v1_calls)
    calls_path.write_text(json.dumps(calls, indent=1, default=str) + "\n")


# --------------------------------------------------------------------------------------------
# orchestration


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, check=True, text=True, **kwargs)


def _install_python(temp: Path, version: str | None) -> tuple[Path, str]:
    target = temp / "python"
    spec = f"posthog=={version}" if version else "posthog"
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), spec])
    metadata = next(target.glob("posthog-*.dist-info"))
    return target, metadata.name.removeprefix("posthog-").removesuffix(".dist-info")


def _install_node(temp: Path, version: str | None) -> tuple[Path, str]:
    folder = temp / "node"
    folder.mkdir()
    package = json.loads((HERE / "package.json").read_text())
    if version:
        package["dependencies"]["posthog-node"] = version
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    shutil.copy(HERE / "record_node.mjs", folder / "record_node.mjs")
    _run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder)
    installed = json.loads((folder / "node_modules" / "posthog-node" / "package.json").read_text())
    return folder, installed["version"]


def _write_index(out: Path, client: str, info: dict[str, Any], sink: Sink, calls_file: Path) -> None:
    index = {
        "client": client,
        **info,
        "api_key": API_KEYS[client],
        "recorded_at": _now_iso(),
        "requests": sink.requests.get(client, []),
        "calls": json.loads(calls_file.read_text()),
    }
    # one line per request and per call keeps the file small and diffable
    lines = ["{"]
    for number, (key, value) in enumerate(index.items()):
        comma = "," if number < len(index) - 1 else ""
        if isinstance(value, list):
            rows = ",\n".join(f"  {json.dumps(row, ensure_ascii=False)}" for row in value)
            lines.append(f" {json.dumps(key)}: [\n{rows}\n ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    (out / client / "index.json").write_text("\n".join(lines) + "\n")


def record(
    out: Path, clients: list[str], python_version: str | None, node_version: str | None, keep: bool
) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gw-record-"))
    staging = temp / "out"
    sink = Sink(staging)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    sink_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"sink listening on {sink_url}", flush=True)
    try:
        if "python" in clients:
            target, version = _install_python(temp, python_version)
            calls = temp / "python-calls.json"
            env = {**os.environ, "PYTHONPATH": str(target), "POSTHOG_CAPTURE_MODE": ""}
            _run([sys.executable, __file__, "--drive-python", sink_url, str(calls)], env=env)
            info = {
                "sdk": "posthog (PyPI)",
                "version": version,
                "runtime": f"Python {sys.version.split()[0]}",
            }
            _write_index(staging, "python", info, sink, calls)
        if "node" in clients:
            folder, version = _install_node(temp, node_version)
            calls = temp / "node-calls.json"
            node = _run(["node", "--version"], capture_output=True).stdout.strip()
            _run(
                ["node", str(folder / "record_node.mjs"), sink_url, str(calls), API_KEYS["node"]], cwd=folder
            )
            info = {"sdk": "posthog-node (npm)", "version": version, "runtime": f"Node {node}"}
            _write_index(staging, "node", info, sink, calls)
        for client in clients:
            destination = out / client
            if destination.exists():
                shutil.rmtree(destination)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staging / client, destination)
            total = sum(p.stat().st_size for p in destination.iterdir())
            print(
                f"{client}: {len(sink.requests.get(client, []))} requests, {total / 1024:.0f} KiB in {destination}"
            )
    finally:
        server.shutdown()
        if keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--drive-python":
        drive_python(sys.argv[2], Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--posthog", help="posthog (PyPI) version (default: latest)")
    parser.add_argument("--posthog-node", help="posthog-node (npm) version (default: package.json's range)")
    parser.add_argument("--only", choices=["python", "node"], help="record one client only")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary install folder")
    args = parser.parse_args()
    clients = [args.only] if args.only else ["python", "node"]
    record(args.out.resolve(), clients, args.posthog, args.posthog_node, args.keep_temp)


if __name__ == "__main__":
    main()
