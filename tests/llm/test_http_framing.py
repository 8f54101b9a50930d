"""A provider stream shows progress however its HTTP body is framed.

A loopback server writes the response bytes itself, in two halves: the first event, then —
only once the test has decoded that event — the rest. A reader that waited for the whole
body (as `iter_content(chunk_size=None)` does unless the body is chunked) would block on the
first event forever, so each test would time out instead of passing.
"""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from gptbot.core.errors import ProviderError, ProviderTimeout
from gptbot.llm.providers.http import StreamingHttp

FIRST = b'data: {"n": 1}\n\n'
REST = [b'data: {"n": 2}\n\n', b"data: [DONE]\n\n"]
FRAMINGS = ["chunked", "content-length", "close"]
WAIT_S = 5.0  # the most the server waits for the test: a failing test fails, never hangs


@dataclass
class PacedServer:
    """Answers one POST with `halves` (bytes already content-encoded), framed as asked,
    sending the second half only after `release` is set; `stall` = never send it."""

    framing: str
    halves: tuple[bytes, bytes]
    gzip: bool = False
    stall: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    rest_sent: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1/chat"

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn, self.listener:
            _read_request(conn)
            conn.sendall(self._head() + self._frame(self.halves[0]))
            if self.release.wait(WAIT_S) and not self.stall:
                conn.sendall(self._frame(self.halves[1]) + self._end())
                self.rest_sent.set()
                return  # closing the socket ends a close-delimited body
            self.done.wait(WAIT_S)  # stalled: silent, with the connection open

    def _head(self) -> bytes:
        lines = ["HTTP/1.1 200 OK", "Content-Type: text/event-stream"]
        if self.gzip:
            lines.append("Content-Encoding: gzip")
        if self.framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
        elif self.framing == "content-length":
            lines.append(f"Content-Length: {sum(map(len, self.halves))}")
        else:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _frame(self, data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if self.framing == "chunked" else data

    def _end(self) -> bytes:
        return b"0\r\n\r\n" if self.framing == "chunked" else b""


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)


def gzip_halves(first: bytes, rest: bytes) -> tuple[bytes, bytes]:
    """One gzip stream, flushed after the first event so that it decodes on its own."""
    compressor = zlib.compressobj(wbits=31)
    head = compressor.compress(first) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return head, compressor.compress(rest) + compressor.flush()


def serve(framing: str, gzip: bool = False, stall: bool = False) -> PacedServer:
    rest = b"".join(REST)
    halves = gzip_halves(FIRST, rest) if gzip else (FIRST, rest)
    return PacedServer(framing, halves, gzip=gzip, stall=stall)


def open_events(server: PacedServer, idle_timeout: float = WAIT_S) -> Iterator[str]:
    http = StreamingHttp(requests.Session(), connect_timeout=2, idle_timeout=idle_timeout)
    response = http.open(server.url, {"Accept-Encoding": "gzip"}, {"stream": True})
    return (event.data for event in http.sse_events(response))


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_the_first_event_arrives_before_the_rest_is_sent(framing: str, gzip: bool) -> None:
    server = serve(framing, gzip)
    try:
        events = open_events(server)
        assert next(events) == '{"n": 1}'
        assert not server.rest_sent.is_set()  # decoded from the first half alone
        server.release.set()
        assert list(events) == ['{"n": 2}', "[DONE]"]
    finally:
        server.release.set()
        server.done.set()
        server.thread.join(WAIT_S)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_silence_after_the_first_event_is_an_idle_timeout(framing: str) -> None:
    server = serve(framing, stall=True)
    try:
        events = open_events(server, idle_timeout=0.3)
        assert next(events) == '{"n": 1}'
        with pytest.raises(ProviderTimeout, match="no data"):
            next(events)
    finally:
        server.release.set()
        server.done.set()
        server.thread.join(WAIT_S)


def test_a_body_cut_short_of_its_content_length_is_an_error() -> None:
    server = serve("content-length", stall=True)
    try:
        events = open_events(server)
        assert next(events) == '{"n": 1}'
        server.release.set()
        server.done.set()  # the server hangs up without the promised rest
        with pytest.raises(ProviderError, match="broke off"):
            list(events)
    finally:
        server.thread.join(WAIT_S)
