"""Client WebSocket connections and the channels each one watches, as Stream keeps them.

A connection watches a channel after a query with `watch: true` and its `connection_id`,
until stop-watching or until it closes. Every channel event (SendEvent's, message.new,
message.updated) goes to the connections watching that channel, which is the only way a
client event such as `ai_indicator.stop` reaches anyone. Sending only enqueues: each
connection's own session thread writes to its socket.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from gptbot.emulator.model import now

Json = dict[str, Any]
DROP = object()  # in an outbox: the server drops the connection without a close frame
MESSAGE_KINDS = frozenset({"message.new", "message.updated"})


@dataclass
class Connection:
    user_id: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    outbox: queue.Queue[object] = field(default_factory=queue.Queue)
    watching: set[str] = field(default_factory=set)

    def send(self, event: Json | str) -> None:
        self.outbox.put(event if isinstance(event, str) else json.dumps(event))

    def drop(self) -> None:
        self.outbox.put(DROP)


class Connections:
    """Every open connection, by id; thread-safe. Tests may read `opened` (a count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Connection] = {}
        self.opened = 0

    def open(self, user_id: str) -> Connection:
        connection = Connection(user_id)
        with self._lock:
            self._open[connection.id] = connection
            self.opened += 1
        return connection

    def close(self, connection_id: str) -> None:
        with self._lock:
            self._open.pop(connection_id, None)

    def get(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._open.get(connection_id)

    def of_user(self, user_id: str) -> list[Connection]:
        with self._lock:
            return [c for c in self._open.values() if c.user_id == user_id]

    def watch(self, connection_id: str, cid: str) -> None:
        with self._lock:
            connection = self._open.get(connection_id)
            if connection is not None:
                connection.watching.add(cid)

    def stop_watching(self, connection_id: str, cid: str) -> None:
        with self._lock:
            connection = self._open.get(connection_id)
            if connection is not None:
                connection.watching.discard(cid)

    def watchers(self, cid: str) -> list[Connection]:
        with self._lock:
            return [c for c in self._open.values() if cid in c.watching]

    def watcher_count(self, cid: str) -> int:
        return len({c.user_id for c in self.watchers(cid)})

    def deliver(self, cid: str, event: Json) -> int:
        """Send `event` to every connection watching `cid`; how many got it."""
        watchers = self.watchers(cid)
        text = json.dumps(event) if watchers else ""
        for connection in watchers:
            connection.send(text)
        return len(watchers)

    def drop_all(self, user_id: str | None = None) -> int:
        """Drop every connection (of `user_id`) abruptly, as a restarting server would."""
        with self._lock:
            dropped = [c for c in self._open.values() if user_id in (None, c.user_id)]
        for connection in dropped:
            connection.drop()
        return len(dropped)

    def on_change(self, kind: str, fields: Json) -> None:
        """The emulator's change feed, as Stream's channel events to watchers."""
        if kind == "event":
            self.deliver(fields["cid"], fields["event"])
        elif kind in MESSAGE_KINDS and self._public_and_watched(fields):
            self.deliver(fields["cid"], message_event(kind, fields["message"]))

    def _public_and_watched(self, fields: Json) -> bool:
        """Most changes have no watchers: then the event is not even built."""
        return fields.get("visible_to") is None and bool(self.watchers(fields["cid"]))


def message_event(kind: str, message: Json) -> Json:
    ctype, _, channel_id = message["cid"].partition(":")
    return {"type": kind, "cid": message["cid"], "channel_id": channel_id,
            "channel_type": ctype, "message": message, "user": message.get("user"),
            "created_at": now()}
