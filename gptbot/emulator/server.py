"""Run a WSGI app on a loopback port in a daemon thread (the emulator, or a test's webhook)."""

from __future__ import annotations

import threading
from functools import partial
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

POLL_INTERVAL_S = 0.02


class QuietRequestHandler(WSGIRequestHandler):
    """No per-request log lines (benchmarks send thousands); keep-alive like Stream's API."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningServer:
    def __init__(self, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host = server.host
        self.port = server.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop accepting requests and release the port; idempotent."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `app` (any WSGI callable) threaded; port 0 picks a free port."""
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    # A short poll interval makes stop() return in milliseconds instead of up to 0.5 s.
    serve = partial(server.serve_forever, poll_interval=POLL_INTERVAL_S)
    thread = threading.Thread(target=serve, name=f"wsgi:{server.port}", daemon=True)
    thread.start()
    return RunningServer(server, thread)
