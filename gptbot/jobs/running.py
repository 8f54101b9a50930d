"""The attempts running in this process, so a shutting-down worker can hand them back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gptbot.store import JobStore

HANDED_BACK = "handed back by a worker shutting down"


@dataclass(eq=False)
class RunningJob:
    key: str
    payload: dict[str, Any]
    attempt: int
    cancelled: threading.Event = field(default_factory=threading.Event)
    why: str = ""  # why it was cancelled

    def cancel(self, why: str) -> None:
        """Stop at the next piece of text and write nothing more: the job is someone else's."""
        self.why = self.why or why
        self.cancelled.set()


class RunningJobs:
    def __init__(self) -> None:
        self._jobs: set[RunningJob] = set()
        self._changed = threading.Condition()

    @contextmanager
    def track(self, key: str, payload: dict[str, Any], attempt: int) -> Iterator[RunningJob]:
        run = RunningJob(key, payload, attempt)
        with self._changed:
            self._jobs.add(run)
        try:
            yield run
        finally:
            with self._changed:
                self._jobs.discard(run)
                self._changed.notify_all()

    def snapshot(self) -> list[RunningJob]:
        with self._changed:
            return list(self._jobs)

    def wait_idle(self, timeout: float, hurry: threading.Event | None = None) -> bool:
        """Wait until nothing runs (True), the timeout passes or `hurry` is set (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._jobs:
                left = deadline - time.monotonic()
                if left <= 0 or (hurry is not None and hurry.is_set()):
                    return False
                self._changed.wait(min(left, 0.1))
        return True


def hand_back(running: RunningJobs, store: JobStore, enqueue: Callable[[dict[str, Any]], None]) \
        -> list[str]:
    """Cancel what still runs and return it to the queue (store first, then the queue), so
    another worker takes it; an attempt that ended meanwhile is left as it ended."""
    handed = []
    for run in running.snapshot():
        run.cancel(HANDED_BACK)
        reason = f"attempt {run.attempt}: {HANDED_BACK}"
        if store.requeue_job(run.key, time.time(), run.attempt, reason):
            enqueue(run.payload)
            handed.append(run.key)
    return handed
