"""One attempt at a job, from its start in the store to its recorded end.

Start (a new attempt, with the lease) → the attempt runs, tracked in this process and kept
alive by its heartbeat → its end is recorded in a `finally`, whatever happened: done,
failed or stopped end the job; an attempt that gave up part-way (an exception, e.g. Stream
refusing the final write) stays running without renewal so the sweeper re-runs it one lease
later; an attempt cancelled (handed back, or its lease lost) records nothing, the store
already names the job's next owner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from gptbot.jobs.heartbeat import Heartbeat
from gptbot.jobs.job import AnswerJob
from gptbot.jobs.owner import current_owner
from gptbot.jobs.running import RunningJob, RunningJobs
from gptbot.store import JobStore
from gptbot.store.jobs import ENDED
from gptbot.telemetry import Telemetry

log = logging.getLogger(__name__)
RETRY, CANCELLED = "retry", "cancelled"  # outcomes that do not end the job
REASON_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # done, failed, stopped (ENDED), retry or cancelled
    reason: str = ""


Attempt = Callable[[AnswerJob, RunningJob], Outcome]


class Lifecycle:
    def __init__(
        self,
        store: JobStore,
        lease_s: float,
        running: RunningJobs,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store = store
        self.lease_s = lease_s
        self.running = running
        self.telemetry = telemetry or Telemetry.off()

    def run(self, job: AnswerJob, attempt: Attempt) -> None:
        number = self.store.start_job(job.key, time.time(), self.lease_s, current_owner())
        if not number:
            log.info("job %s already ended or running elsewhere; skipping", job.key)
            return
        outcome = Outcome(RETRY, "interrupted")
        try:
            with self.running.track(job.key, job.to_payload(), number) as run, \
                    Heartbeat(self.store, run, self.lease_s):
                outcome = attempt(job, run)
        except Exception as exc:
            log.exception("job %s, attempt %d, gave up; it runs again after its lease",
                          job.key, number)
            outcome = Outcome(RETRY, of_attempt(number, describe(exc)))
        finally:
            self._record(job.key, outcome)

    def last_reason(self, key: str) -> str:
        record = self.store.job(key)
        return record.reason if record else ""

    def _record(self, key: str, outcome: Outcome) -> None:
        try:
            if outcome.state in ENDED:
                self.store.finish_job(key, time.time(), outcome.state, outcome.reason)
                self.telemetry.job_finished(outcome.state)
            elif outcome.state == RETRY:
                self.store.retry_job(key, outcome.reason, time.time())
        except Exception:  # the lease expires; the re-run finds the reply and ends the job
            log.exception("could not record the end of job %s (%s)", key, outcome.state)


def describe(exc: BaseException) -> str:
    """An exception as a one-line reason for `gptbot jobs`."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text[:REASON_LIMIT]


def of_attempt(number: int, reason: str) -> str:
    """A reason that belongs to one attempt: "attempt 3: …"."""
    return f"attempt {number}: {reason}"
