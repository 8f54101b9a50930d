"""Tiny loopback HTTP servers for tests: a fake LLM that streams real SSE bytes."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeLLM:
    """Streams `body` in random small pieces; records each request it receives."""

    body: bytes = b""
    status: int = 200
    piece_sizes: tuple[int, int] = (1, 24)
    delay: float = 0.0
    first_delay: float = 0.0  # "thinking" time before the first byte
    stall_after: int | None = None  # stop sending (but keep the socket open) after N bytes
    requests: list[dict[str, Any]] = field(default_factory=list)
    request_times: list[float] = field(default_factory=list)
    seed: int = 7

    def pieces(self) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        at = 0
        while at < len(self.body):
            size = rng.randint(*self.piece_sizes)
            yield self.body[at:at + size]
            at += size


@dataclass
class RunningHttp:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> RunningHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _llm_handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            fake.request_times.append(time.monotonic())
            fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                  "json": json.loads(self.rfile.read(length) or b"{}")})
            self.send_response(fake.status)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream()

        def _stream(self) -> None:
            time.sleep(fake.first_delay)
            sent = 0
            for piece in fake.pieces():
                if fake.stall_after is not None and sent >= fake.stall_after:
                    time.sleep(5)
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                sent += len(piece)
                if fake.delay:
                    time.sleep(fake.delay)
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def serve(handler: type[BaseHTTPRequestHandler]) -> RunningHttp:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return RunningHttp(server, thread)


def serve_llm(fake: FakeLLM) -> RunningHttp:
    return serve(_llm_handler(fake))


def serve_json(routes: dict[str, Callable[[], tuple[int, Any]]]) -> RunningHttp:
    """GET-only JSON server: path → () -> (status, body)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            status, body = routes.get(self.path, lambda: (404, {"error": "no route"}))()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return serve(Handler)
