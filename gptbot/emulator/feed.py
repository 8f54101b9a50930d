"""The change feed: every visible change as a dict, fanned out to subscriber queues.

Tests read `changes`; the dev playground will forward a subscription to the browser.
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
from collections import deque
from typing import Any

from gptbot.emulator.model import now

Change = dict[str, Any]
# Long benchmark runs publish millions of changes; keep the recent ones only.
DEFAULT_KEPT = 50_000


class ChangeFeed:
    def __init__(self, kept: int = DEFAULT_KEPT) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._subscribers: list[queue.Queue[Change]] = []
        self.changes: deque[Change] = deque(maxlen=kept)

    def subscribe(self) -> queue.Queue[Change]:
        """A queue that receives every later change; pass it to `unsubscribe` when done."""
        feed: queue.Queue[Change] = queue.Queue()
        with self._lock:
            self._subscribers.append(feed)
        return feed

    def unsubscribe(self, feed: queue.Queue[Change]) -> None:
        with self._lock:
            if feed in self._subscribers:
                self._subscribers.remove(feed)

    def publish(self, kind: str, **fields: Any) -> None:
        # Copies: subscribers on other threads must never see a later mutation.
        with self._lock:
            change = {"seq": next(self._seq), "kind": kind, "at": now(), **copy.deepcopy(fields)}
            self.changes.append(change)
            for feed in self._subscribers:
                feed.put_nowait(copy.deepcopy(change))

    def of_kind(self, kind: str) -> list[Change]:
        with self._lock:
            return [copy.deepcopy(c) for c in self.changes if c["kind"] == kind]
