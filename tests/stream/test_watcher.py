"""The bot's Stream WebSocket (`ChannelWatcher`) against a scripted loopback Stream.

The fake speaks Stream's client protocol on a `websockets` server: it checks the key and the
user token, sends the first health.check with a connection id, answers health checks, and
can push events, go silent or drop every connection. Watch calls (REST) go to a recording
session, so each test sees exactly what the watcher asked Stream to do.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from gptbot.stream import ws_protocol as wire
from gptbot.stream.watcher import ChannelWatcher, StopSignal
from tests.support.loop import wait_for

KEY, SECRET, BOT = "fake-key", "fake-secret-0123456789abcdef0123456789", "gpt-bot"
CID = "messaging:general"


@dataclass
class FakeStream:
    """Stream's side of /connect; `connects` records each query, `received` client messages."""

    secret: str = SECRET
    silent: bool = False  # stop answering health checks (a half-dead connection)
    connects: list[dict[str, str]] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)
    open: dict[str, ServerConnection] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        query = {k: v[0] for k, v in parse_qs(urlsplit(conn.request.path).query).items()}
        self.connects.append(query)
        error = self.refusal(query)
        if error:
            conn.send(json.dumps({"type": "connection.error", "error": error}))
            conn.close(1000, error["message"])
            return
        connection_id = f"conn-{next(self.ids)}"
        with self.lock:
            self.open[connection_id] = conn
        conn.send(json.dumps({"type": "health.check", "connection_id": connection_id,
                              "cid": "*", "me": {"id": BOT}}))
        try:
            for message in conn:
                self.received.append(json.loads(message))
                if not self.silent:
                    conn.send(json.dumps({"type": "health.check",
                                          "connection_id": connection_id}))
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.open.pop(connection_id, None)

    def refusal(self, query: dict[str, str]) -> dict[str, Any] | None:
        if query.get("api_key") != KEY:
            return {"code": 2, "message": "api_key not found", "StatusCode": 401}
        try:
            claims = jwt.decode(query.get("authorization", ""), self.secret, ["HS256"])
        except jwt.PyJWTError:
            return {"code": 43, "message": "JWTAuth error: signature is not valid",
                    "StatusCode": 401}
        user = json.loads(query["json"])["user_id"]
        if claims != {"user_id": user} or query.get("stream-auth-type") != "jwt":
            return {"code": 5, "message": "token does not match", "StatusCode": 401}
        return None

    def push(self, event: dict[str, Any]) -> None:
        with self.lock:
            connections = list(self.open.values())
        for conn in connections:
            conn.send(json.dumps(event))

    def drop(self) -> None:
        """Cut every connection without a close frame, as a crashing server would."""
        with self.lock:
            connections = list(self.open.values())
        for conn in connections:
            conn.socket.shutdown(socket.SHUT_RDWR)

    def connection_ids(self) -> list[str]:
        with self.lock:
            return list(self.open)


@dataclass
class Reply:
    status_code: int = 201
    text: str = "{}"


@dataclass
class RecordingSession:
    """Stands in for requests.Session: records each watch / stop-watching call."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # then 201s

    def post(self, url: str, **kwargs: Any) -> Reply:
        self.calls.append({"url": url, **kwargs})
        return self.replies.pop(0) if self.replies else Reply()

    def close(self) -> None:
        pass

    def actions(self) -> list[tuple[str, str]]:
        """(last path segment, connection_id) per call."""
        return [(c["url"].rsplit("/", 1)[1], c["params"]["connection_id"]) for c in self.calls]


@pytest.fixture
def stream() -> Iterator[tuple[FakeStream, str]]:
    fake = FakeStream()
    with serve(fake.handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        host, port = server.socket.getsockname()[:2]
        yield fake, f"http://{host}:{port}"
        server.shutdown()


def make_watcher(url: str, stops: list[StopSignal], secret: str = SECRET,
                 **options: Any) -> tuple[ChannelWatcher, RecordingSession]:
    session = RecordingSession()
    options = {"retry_interval": lambda failures: 0.01, "tick_s": 0.02, **options}
    fake_session: Any = session
    watcher = ChannelWatcher(url, KEY, secret, BOT, stops.append, session=fake_session,
                             **options)
    return watcher, session


def test_connects_on_first_watch_as_the_bot_user_and_watches_with_its_connection(stream):
    fake, url = stream
    watcher, session = make_watcher(url, [])
    with watcher:
        assert fake.connects == [] and not watcher.connected  # lazy
        with watcher.watching(CID):
            wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        query = fake.connects[0]
        assert jwt.decode(query["authorization"], SECRET, ["HS256"]) == {"user_id": BOT}
        assert (query["api_key"], query["stream-auth-type"]) == (KEY, "jwt")
        assert json.loads(query["json"])["user_id"] == BOT
        call = session.calls[0]
        assert call["url"] == f"{url}/channels/messaging/general/query"
        assert call["params"] == {"api_key": KEY, "user_id": BOT, "connection_id": "conn-1"}
        assert call["headers"]["Authorization"] == query["authorization"]
        assert call["headers"]["stream-auth-type"] == "jwt"
        assert call["json"] == {"state": True, "watch": True, "presence": False}


def test_delivers_stop_events_of_watched_channels_only(stream):
    fake, url = stream
    stops: list[StopSignal] = []
    watcher, _ = make_watcher(url, stops)
    with watcher, watcher.watching(CID):
        wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        fake.push({"type": "ai_indicator.stop", "cid": "messaging:other"})
        fake.push({"type": "message.new", "cid": CID, "message": {"id": "m1"}})
        fake.push({"type": "ai_indicator.stop", "cid": CID, "channel_type": "messaging",
                   "channel_id": "general", "user": {"id": "sam"}, "parent_id": "p1",
                   "message_id": "gptbot-r1"})
        fake.push({"type": "ai_indicator.stop", "channel_type": "messaging",
                   "channel_id": "general"})  # the React UI's bare event, no cid
        wait_for(lambda: len(stops) == 2, 5, "both stops")
    assert stops == [StopSignal(CID, "p1", "gptbot-r1", "sam"), StopSignal(CID)]


def test_a_failing_stop_handler_does_not_end_the_connection(stream):
    fake, url = stream
    seen: list[str] = []

    def on_stop(signal: StopSignal) -> None:
        seen.append(signal.cid)
        raise RuntimeError("store down")

    fake_session: Any = RecordingSession()
    watcher = ChannelWatcher(url, KEY, SECRET, BOT, on_stop, session=fake_session, tick_s=0.02)
    with watcher, watcher.watching(CID):
        wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        fake.push({"type": "ai_indicator.stop", "cid": CID})
        fake.push({"type": "ai_indicator.stop", "cid": CID})
        wait_for(lambda: len(seen) == 2, 5, "both stops despite the error")
        assert len(fake.connects) == 1


def test_sends_health_checks_as_the_js_sdk_does(stream):
    fake, url = stream
    watcher, _ = make_watcher(url, [], ping_interval_s=0.05)
    with watcher, watcher.watching(CID):
        wait_for(lambda: len(fake.received) >= 2, 5, "two health checks")
    (ping,) = fake.received[0]
    assert ping["type"] == "health.check"
    assert ping["client_id"].startswith(f"{BOT}--")
    assert len(fake.connects) == 1  # answered checks keep the one connection


def test_reconnects_when_stream_goes_silent(stream):
    fake, url = stream
    fake.silent = True
    watcher, session = make_watcher(url, [], ping_interval_s=0.05, liveness_s=0.3)
    with watcher, watcher.watching(CID):
        wait_for(lambda: len(fake.connects) >= 2, 5, "a reconnect after silence")
        wait_for(lambda: ("query", "conn-2") in session.actions(), 5, "the re-watch")


def test_reconnects_after_a_dropped_connection_and_watches_again(stream):
    fake, url = stream
    stops: list[StopSignal] = []
    watcher, session = make_watcher(url, stops)
    with watcher, watcher.watching(CID), watcher.watching("team:ops"):
        wait_for(lambda: watcher.is_watching(CID) and watcher.is_watching("team:ops"), 5,
                 "both watches")
        fake.drop()
        wait_for(lambda: fake.connection_ids() == ["conn-2"], 5, "the new connection")
        wait_for(lambda: watcher.is_watching(CID) and watcher.is_watching("team:ops"), 5,
                 "both watches again")
        fake.push({"type": "ai_indicator.stop", "cid": "team:ops"})
        wait_for(lambda: stops, 5, "a stop on the new connection")
    assert sorted(session.actions()[2:]) == [("query", "conn-2"), ("query", "conn-2")]


def test_watches_are_reference_counted_and_the_idle_connection_closes(stream):
    fake, url = stream
    watcher, session = make_watcher(url, [], idle_s=0.2)
    with watcher:
        with watcher.watching(CID):
            with watcher.watching(CID):
                wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
            assert watcher.is_watching(CID)  # one answer there is still running
        wait_for(lambda: ("stop-watching", "conn-1") in session.actions(), 5, "stop-watching")
        wait_for(lambda: not fake.connection_ids(), 5, "the idle disconnect")
        assert session.actions() == [("query", "conn-1"), ("stop-watching", "conn-1")]
        with watcher.watching(CID):  # the next answer connects again
            wait_for(lambda: watcher.is_watching(CID), 5, "the new watch")
        assert session.actions()[-1] == ("query", "conn-2")


def test_a_refused_watch_is_retried_after_a_minute_not_every_few_seconds(stream):
    fake, url = stream
    now = [1000.0]
    watcher, session = make_watcher(url, [], clock=lambda: now[0], ping_interval_s=5.0,
                                    liveness_s=1e9)
    session.replies.append(Reply(403, '{"code": 17, "message": "not allowed to ReadChannel"}'))
    with watcher, watcher.watching(CID):
        wait_for(lambda: len(session.calls) == 1, 5, "the first watch")
        for pings in (1, 2):  # each ping is a later loop round, with the clock moved on
            now[0] += 6
            wait_for(lambda n=pings: len(fake.received) >= n, 5, f"ping {pings}")
        assert len(session.calls) == 1 and not watcher.is_watching(CID)
        now[0] += 60
        wait_for(lambda: watcher.is_watching(CID), 5, "the retry a minute later")
        assert len(session.calls) == 2


@pytest.mark.parametrize("secret", ["a-wrong-secret-0123456789abcdef012345"])
def test_bad_credentials_stop_the_watcher_without_retrying(stream, secret, caplog):
    fake, url = stream
    watcher, session = make_watcher(url, [], secret=secret)
    with caplog.at_level(logging.ERROR), watcher, watcher.watching(CID):
        wait_for(lambda: watcher.rejected is not None, 5, "the refusal")
        wait_for(lambda: watcher._thread is None, 5, "the watcher to give up")
        watcher.acquire(CID)  # a later answer does not try again either
        watcher.release(CID)
    assert len(fake.connects) == 1 and session.calls == []
    assert "code 43" in str(watcher.rejected)
    assert "Stop button over WebSocket disabled" in caplog.text


def test_never_logs_the_token(stream, caplog):
    fake, url = stream
    watcher, _ = make_watcher(url, [])
    token = wire.user_token(SECRET, BOT)
    with caplog.at_level(logging.DEBUG), watcher, watcher.watching(CID):
        wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        fake.drop()
        wait_for(lambda: len(fake.connects) == 2 and watcher.is_watching(CID), 5, "reconnect")
    ours = [r for r in caplog.records if not r.name.startswith("websockets.server")]
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert "Stream WebSocket lost" in text
    assert token not in text and token not in repr(watcher)


def test_close_ends_the_connection(stream):
    fake, url = stream
    watcher, _ = make_watcher(url, [])
    with watcher.watching(CID):
        wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        watcher.close()
        wait_for(lambda: not fake.connection_ids(), 5, "the close")
        assert not watcher.connected


# -- the protocol's pure parts --------------------------------------------------------------


def test_the_websocket_url_derives_from_the_rest_base_url():
    assert wire.ws_base("https://chat.stream-io-api.com") == "wss://chat.stream-io-api.com"
    assert wire.ws_base("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000"
    assert wire.ws_base(None) == "wss://chat.stream-io-api.com"
    with pytest.raises(ValueError):
        wire.ws_base("ftp://example.com")
    url = urlsplit(wire.connect_url("http://h:1", KEY, "tok", BOT))
    assert (url.scheme, url.path) == ("ws", "/connect")
    assert parse_qs(url.query)["authorization"] == ["tok"]


def test_retry_intervals_grow_like_the_js_sdk_and_stay_under_25_s():
    lows = [wire.retry_interval(n, lambda a, b: a) for n in (1, 2, 5, 50)]
    highs = [wire.retry_interval(n, lambda a, b: b) for n in (1, 2, 5, 50)]
    assert lows == [0.25, 2.0, 8.0, 25.0]
    assert highs == [2.5, 4.5, 10.5, 25.0]


def test_a_first_message_with_an_error_is_a_refusal():
    with pytest.raises(wire.CredentialsRejected, match="code 2"):
        wire.connection_id({"type": "connection.error", "error": {"code": 2, "message": "x"}})
    with pytest.raises(ConnectionError):
        wire.connection_id({"type": "message.new"})
    assert wire.connection_id({"type": "connection.ok", "connection_id": "c1"}) == "c1"
