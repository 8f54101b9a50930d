"""A running attempt's lease, renewed from a thread of its own.

The lease says "this job's process is alive", not "the model is producing tokens": a slow
first token or a long tool call is not a dead worker, so the renewal does not wait for text.
A worker that dies stops renewing, and its jobs re-run one lease later (or at once, when a
worker on the same machine sees the process is gone: see owner.py). The provider's own idle
timeout still ends a model that went silent.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from gptbot.jobs.running import RunningJob
from gptbot.store import JobStore

log = logging.getLogger(__name__)
LOST = "lost its lease to another attempt"


class Heartbeat:
    """`with Heartbeat(store, run, lease_s):` renews every lease/3 while the block runs;
    when the store says the attempt is no longer the job's, cancels it."""

    def __init__(self, store: JobStore, run: RunningJob, lease_s: float) -> None:
        self.store = store
        self.run = run
        self.every = lease_s / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"gptbot-heartbeat-{run.key[:24]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(self.every)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            if not self._beat():
                return

    def _beat(self) -> bool:
        try:
            kept = self.store.heartbeat_job(self.run.key, time.time(), self.run.attempt)
        except Exception as exc:  # a store hiccup: the lease may well still hold; try again
            log.warning("could not renew the lease of %s: %s", self.run.key, exc)
            return True
        if not kept and not self._stop.is_set():
            log.warning("job %s (attempt %d) %s; stopping it", self.run.key, self.run.attempt,
                        LOST)
            self.run.cancel(LOST)
        return kept
