"""Loopback stand-ins for the ways a network peer goes wrong: a port nobody listens on, a
server that accepts and never answers, a server that answers every request the same way."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.servers import RunningHttp, serve


def closed_port() -> int:
    """A port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[str]:
    """Completes the TCP handshake (the kernel's backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def answer_everything(status: int, body: Any) -> RunningHttp:
    """Every GET/POST/PUT/PATCH gets `status` with `body` as JSON (or as text, for a str)."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    kind = "text/plain" if isinstance(body, str) else "application/json"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = _answer

    return serve(Handler)


def stream_error(status: int, code: int, message: str) -> dict[str, Any]:
    """Stream's error body, as its API answers."""
    return {"code": code, "message": message, "StatusCode": status, "duration": "0.01ms",
            "more_info": "https://getstream.io/chat/docs/api_errors_response"}
