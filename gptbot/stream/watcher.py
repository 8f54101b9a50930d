"""The bot's own WebSocket to Stream, watching the channels it is answering in.

Stream sends `ai_indicator.stop` (the UI's "Stop generating" button, a client event) to the
connections watching the channel, not to webhooks; Stream's own AI agents receive it this
way. `ChannelWatcher` keeps ONE connection per process as the bot user, opened on first use
and closed after `idle_s` with nothing to watch; it watches a channel while at least one
answer there is in flight, re-watches everything after a reconnect, and calls `on_stop`
(on its own thread) for every Stop on a watched channel. Nothing here ever blocks or fails
an answer: a dead connection only means Stop arrives by `/gpt stop` instead.

Blocking sockets and threads only (websockets' sync client, requests), so it runs the same
under gevent's monkey patching. Wiring, for example::

    watcher = ChannelWatcher(config.stream_chat_url, config.stream_api_key,
                             config.stream_api_secret, config.bot_user_id,
                             on_stop=lambda s: jobs.request_stop(
                                 conversation_key(s.cid, s.parent_id), time.time()))
    with watcher.watching(job.cid):
        ...  # generate the answer; a Stop lands in the store, which the answer polls
    watcher.close()  # at shutdown
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from gptbot.stream import ws_protocol as wire
from gptbot.stream.ws_protocol import CredentialsRejected, StopSignal
from gptbot.stream.ws_rest import WatchApi, WatchRefused

__all__ = ["ChannelWatcher", "CredentialsRejected", "StopSignal"]
log = logging.getLogger(__name__)

IDLE_S = 60.0
TICK_S = 0.1  # longest wait before a new watch is sent or close() is noticed
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
RETRY_FAILED_WATCH_S = 5.0  # after a network error or 5xx
RETRY_REFUSED_WATCH_S = 60.0  # after a 4xx, e.g. the bot may not read the channel
DROPPED = (OSError, TimeoutError, ConnectionError, WebSocketException, requests.RequestException)


class _QuietWire(logging.Filter):
    """websockets' DEBUG wire trace prints the request line, which carries the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


WIRE_LOG = logging.getLogger(f"{__name__}.wire")
WIRE_LOG.addFilter(_QuietWire())


class ChannelWatcher:
    """One WebSocket per process as `bot_user_id`; `watching(cid)` while answering there."""

    def __init__(self, base_url: str | None, api_key: str, secret: str, bot_user_id: str,
                 on_stop: Callable[[StopSignal], None], *,
                 clock: Callable[[], float] = time.monotonic,
                 retry_interval: Callable[[int], float] = wire.retry_interval,
                 idle_s: float = IDLE_S, ping_interval_s: float = wire.PING_INTERVAL_S,
                 liveness_s: float = wire.LIVENESS_S, tick_s: float = TICK_S,
                 connector: Callable[..., ClientConnection] = connect,
                 session: requests.Session | None = None) -> None:
        self.on_stop = on_stop
        self.clock, self.retry_interval = clock, retry_interval
        self.idle_s, self.ping_interval_s = idle_s, ping_interval_s
        self.liveness_s, self.tick_s = liveness_s, tick_s
        wire.ws_base(base_url)  # a bad URL fails here, not later on the thread
        self._token = wire.user_token(secret, bot_user_id)
        self._url = lambda: wire.connect_url(base_url, api_key, self._token, bot_user_id)
        self._client_id = wire.client_id(bot_user_id)
        self._connector = connector
        self._api = WatchApi(base_url, api_key, self._token, bot_user_id, session)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._refs: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._idle_since = clock()
        self._watched: set[str] = set()
        self._failed: dict[str, float] = {}
        self.connection_id: str | None = None
        self.rejected: CredentialsRejected | None = None

    # -- the API answers use ---------------------------------------------------------

    @contextmanager
    def watching(self, cid: str) -> Iterator[None]:
        """Watch `cid` for the block (reference-counted); never raises for the connection."""
        self.acquire(cid)
        try:
            yield
        finally:
            self.release(cid)

    def acquire(self, cid: str) -> None:
        wire.channel_path(cid, "query")  # a bad cid is the caller's bug: fail here, loudly
        with self._lock:
            self._refs[cid] += 1
            self._start_locked()

    def release(self, cid: str) -> None:
        with self._lock:
            self._refs[cid] -= 1
            if self._refs[cid] <= 0:
                del self._refs[cid]
            if not self._refs:
                self._idle_since = self.clock()

    def is_watching(self, cid: str) -> bool:
        """Whether the current connection watches `cid` (Stop events reach us)."""
        with self._lock:
            return cid in self._watched

    @property
    def connected(self) -> bool:
        return self.connection_id is not None

    def close(self, timeout: float = 5.0) -> None:
        """Close the connection and stop; idempotent."""
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._api.close()

    # -- the connection thread -------------------------------------------------------

    def _start_locked(self) -> None:
        if self._thread is None and not self._closed.is_set() and self.rejected is None:
            self._thread = threading.Thread(target=self._run, name="stream-watcher",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        failures = 0
        try:
            while not self._closed.is_set():
                failures = self._connect_once(failures)
                if failures < 0 or self._exit_if_idle():
                    return
                if failures:
                    self._closed.wait(self.retry_interval(failures))
        finally:
            self._forget_connection(exiting=True)

    def _connect_once(self, failures: int) -> int:
        """One connection's life; the failure count after it, -1 to stop for good."""
        try:
            with self._dial() as conn:
                self._handshake(conn)
                self._session(conn)
            return 0
        except CredentialsRejected as exc:
            log.error("Stop button over WebSocket disabled: %s", exc)
            self.rejected = exc
            return -1
        except DROPPED as exc:
            log.warning("Stream WebSocket lost (%s); reconnecting", self._scrub(exc))
            return failures + 1
        finally:
            self._forget_connection(exiting=False)

    def _dial(self) -> ClientConnection:
        try:
            return self._connector(self._url(), open_timeout=OPEN_TIMEOUT_S,
                                   close_timeout=CLOSE_TIMEOUT_S, logger=WIRE_LOG,
                                   user_agent_header=wire.CLIENT_NAME)
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise CredentialsRejected(f"HTTP {exc.response.status_code}") from None
            raise

    def _handshake(self, conn: ClientConnection) -> None:
        """Stream's first message: the connection id, or why it refused us."""
        first = wire.parse(conn.recv(timeout=OPEN_TIMEOUT_S))
        self.connection_id = wire.connection_id(first or {})
        log.info("Stream WebSocket connected as the bot (connection %s)", self.connection_id)

    def _session(self, conn: ClientConnection) -> None:
        now = self.clock()
        last_event, next_ping = now, now + self.ping_interval_s
        while not self._closed.is_set() and not self._idle_expired():
            self._sync_watches()
            message = self._receive(conn)
            now = self.clock()
            if message is not None:
                last_event = now
                if self._handle(message) == wire.HEALTH_CHECK:
                    next_ping = now + self.ping_interval_s
            if now >= next_ping:
                conn.send(wire.health_check(self._client_id))
                next_ping = now + self.ping_interval_s
            if now - last_event > self.liveness_s:
                raise ConnectionError(f"nothing from Stream for {self.liveness_s:g} s")

    def _receive(self, conn: ClientConnection) -> str | bytes | None:
        try:
            return conn.recv(timeout=self.tick_s)
        except TimeoutError:
            return None

    def _handle(self, message: str | bytes) -> str | None:
        event = wire.parse(message)
        if event is None:
            return None
        signal = wire.stop_signal(event)
        if signal is not None and self.is_watching(signal.cid):
            self._deliver(signal)
        return str(event.get("type"))

    def _deliver(self, signal: StopSignal) -> None:
        try:
            self.on_stop(signal)
        except Exception:
            log.exception("the Stop handler failed for %s", signal.cid)

    # -- watches -----------------------------------------------------------------------

    def _sync_watches(self) -> None:
        with self._lock:
            wanted, watched = set(self._refs), set(self._watched)
        for cid in sorted(wanted - watched):
            self._watch(cid)
        for cid in sorted(watched - wanted):
            self._stop_watching(cid)

    def _watch(self, cid: str) -> None:
        if self._failed.get(cid, 0.0) > self.clock() or self.connection_id is None:
            return
        try:
            self._api.watch(cid, self.connection_id)
        except (WatchRefused, requests.RequestException) as exc:
            log.warning("could not watch %s for Stop events: %s", cid, self._scrub(exc))
            final = isinstance(exc, WatchRefused) and exc.final
            self._failed[cid] = self.clock() + (RETRY_REFUSED_WATCH_S if final
                                                else RETRY_FAILED_WATCH_S)
            return
        self._failed.pop(cid, None)
        with self._lock:
            self._watched.add(cid)

    def _stop_watching(self, cid: str) -> None:
        with self._lock:
            self._watched.discard(cid)
        if self.connection_id is None:
            return
        try:
            self._api.stop_watching(cid, self.connection_id)
        except (WatchRefused, requests.RequestException) as exc:
            log.info("stop-watching %s failed (harmless): %s", cid, self._scrub(exc))

    # -- bookkeeping -------------------------------------------------------------------

    def _idle_expired(self) -> bool:
        with self._lock:
            return not self._refs and self.clock() - self._idle_since >= self.idle_s

    def _exit_if_idle(self) -> bool:
        """After a connection ended: stop when closed or nothing is wanted (the next
        acquire() connects again). Decided under the lock, so that acquire starts a fresh
        thread instead of counting on this one."""
        with self._lock:
            if not self._refs or self._closed.is_set():
                self._thread = None
                return True
            return False

    def _forget_connection(self, exiting: bool) -> None:
        with self._lock:
            self._watched.clear()
            if exiting and self._thread is threading.current_thread():
                self._thread = None
        self.connection_id = None
        self._failed.clear()

    def _scrub(self, exc: BaseException) -> str:
        return f"{type(exc).__name__}: {exc}".replace(self._token, "<token>")

    def __repr__(self) -> str:  # no token, no secret
        return f"<ChannelWatcher connected={self.connected} watching={sorted(self._watched)}>"

    def __enter__(self) -> ChannelWatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
