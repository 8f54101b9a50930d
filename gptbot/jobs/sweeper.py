"""The sweeper: hands the jobs of dead workers back to the queue, from a thread that never dies.

It sweeps as the worker starts (a restarted worker re-runs what its predecessor left) and
then every lease/3. A running job is re-queued when its lease expired (its process stopped
renewing it), or at once when its owner was a process of this machine that is gone; a queued
job when nobody picked it up for QUEUED_GRACE_S. Any exception in a sweep is logged with its
traceback and the next sweep comes all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gptbot.jobs.lifecycle import of_attempt
from gptbot.jobs.owner import owner_is_dead
from gptbot.store import JobRecord, JobStore
from gptbot.store.jobs import RUNNING
from gptbot.telemetry import Telemetry

log = logging.getLogger(__name__)
QUEUED_GRACE_S = 600.0  # a queued job waits this long for a worker before it is re-queued
ORPHANS_LIMIT = 1000  # running jobs looked at per sweep for a dead owner


class Sweeper:
    def __init__(
        self,
        store: JobStore,
        enqueue: Callable[[dict[str, Any]], None],
        lease_s: float,
        every: float | None = None,
        housekeeping: Callable[[], None] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store = store
        self.telemetry = telemetry or Telemetry.off()
        self.enqueue = enqueue
        self.lease_s = lease_s
        self.every = every if every is not None else lease_s / 3
        self.housekeeping = housekeeping
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gptbot-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.every)

    def tick(self) -> None:
        """One sweep and the housekeeping; nothing that goes wrong here ends the loop."""
        try:
            self.sweep()
        except Exception:
            log.exception("job sweep failed; the next one comes in %.3g s", self.every)
        try:
            if self.housekeeping:
                self.housekeeping()
        except Exception:  # pruning can wait for the next sweep
            log.exception("housekeeping failed")

    def sweep(self) -> int:
        """Re-queue the jobs of dead workers; how many went back to the queue."""
        now = time.time()
        stale = self.store.stale_jobs(now, self.lease_s, QUEUED_GRACE_S)
        seen = {record.key for record in stale}
        orphans = [r for r in self._orphans() if r.key not in seen]
        requeued = [self._requeue(r, _why_stale(r)) for r in stale]
        requeued += [self._requeue(r, "its worker died") for r in orphans]
        return sum(requeued)

    def _orphans(self) -> list[JobRecord]:
        """Running jobs whose process, on this machine, is gone: no need to wait for a lease."""
        running = self.store.jobs(state=RUNNING, limit=ORPHANS_LIMIT)
        self.telemetry.jobs_gauge(running=len(running))
        return [record for record in running if owner_is_dead(record.owner)]

    def _requeue(self, record: JobRecord, why: str) -> bool:
        try:
            # Fenced by the attempt: a job another sweep re-queued and a worker started since
            # is that worker's now.
            reason = _reason(record, why)
            if not self.store.requeue_job(record.key, time.time(), record.attempts, reason):
                return False
            log.warning("re-queueing %s job %s: %s", record.state, record.key, reason or why)
            self.enqueue(record.payload)
            self.telemetry.job_finished("requeued")
        except Exception:  # the others still go; this one comes up again next sweep
            log.exception("could not re-queue job %s", record.key)
            return False
        return True


def _reason(record: JobRecord, why: str) -> str:
    """The sweep's reason, unless the attempt left its own (then "" keeps that one)."""
    if not record.attempts:
        return why
    if record.reason.startswith(of_attempt(record.attempts, "")):
        return ""
    return of_attempt(record.attempts, why)


def _why_stale(record: JobRecord) -> str:
    if record.state == RUNNING:
        return "its worker stopped renewing the lease"
    return "no worker picked it up in time"
