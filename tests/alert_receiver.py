"""A loopback HTTP receiver for alert webhooks (tests only): records every POSTed JSON body."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """What the receiver got; ``url`` is where to POST."""

    url: str
    status: int = 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until some received body satisfies ``predicate``; return the matching bodies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [b for b in list(self.bodies) if predicate(b)]
            if found:
                return found
            time.sleep(0.2)
        return []


@contextmanager
def alert_receiver(status: int = 200) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) in a thread; answer every POST with ``status``."""
    receiver = Receiver(url="", status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                receiver.bodies.append(json.loads(raw))
            except ValueError:
                receiver.bodies.append({"_raw": raw.decode(errors="replace")})
            receiver.headers.append(dict(self.headers.items()))
            self.send_response(receiver.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base)
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
