"""A worker process's slots: GPTBOT_CONCURRENCY answers running, and as many again waiting
for their turn in their conversation.

An answer that waits for the one ahead of it in its channel (in_order.py) steps aside: it
gives its running slot to the next job in the queue, holds a waiting slot while it polls,
and takes a running slot back when its turn comes. So one busy channel's queue of
questions cannot fill every slot while other channels' questions wait behind it. With
every waiting slot taken, a waiter keeps its running slot, as before: the store is polled by
at most GPTBOT_CONCURRENCY waiters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Slots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = threading.BoundedSemaphore(limit)
        self._waiting = threading.BoundedSemaphore(limit)
        self._local = threading.local()  # whether this job's thread holds a running slot

    def take(self, timeout: float) -> bool:
        """For the dispatcher, before it takes a job from the queue."""
        return self._running.acquire(timeout=timeout)

    def give(self) -> None:
        self._running.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Around a job the dispatcher runs on a slot it took: the job may step aside."""
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False

    @contextmanager
    def stepped_aside(self) -> Iterator[None]:
        """While a job waits for its turn. A job run outside the dispatcher (tests, huey's
        immediate mode) holds no slot and steps nowhere."""
        if not getattr(self._local, "held", False) or not self._waiting.acquire(blocking=False):
            yield
            return
        self._running.release()
        try:
            yield
        finally:
            self._running.acquire()  # its turn has come: back in line for a running slot
            self._waiting.release()
