"""The job contract: claims that make a delivery run once, leases, attempts, and stop requests.

A job's life: queued (claimed) → running (an attempt holds the lease and renews it) → one of
the ended states: done, failed (with its reason) or stopped. A running job whose lease is not
renewed (its process died) is handed back to queued by the sweeper and runs again as a new
attempt; every state change is one atomic step in the store (a transaction, a Lua script).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

QUEUED, RUNNING = "queued", "running"
DONE, FAILED, STOPPED = "done", "failed", "stopped"
ACTIVE = (QUEUED, RUNNING)
ENDED = (DONE, FAILED, STOPPED)
# Ended jobs are remembered this long so a late duplicate delivery is still recognised.
DONE_RETENTION_S = 7 * 24 * 3600
# A stop request only matters to answers already asked when it came; a day is plenty.
STOP_RETENTION_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class JobRecord:
    key: str
    payload: dict[str, Any]
    state: str
    updated_at: float
    attempts: int = 0  # how many times the job started running
    reason: str = ""  # why the last attempt did not finish, or why the job failed
    owner: str = ""  # the process of the running attempt (see gptbot.jobs.owner)


class JobStore(Protocol):
    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        """Record a new job; False when the key was seen before (a duplicate delivery)."""

    def release_job(self, key: str) -> None:
        """Forget a claim whose job could not be queued, so a retry can claim it again."""

    def start_job(self, key: str, now: float, lease_s: float, owner: str = "") -> int:
        """Mark running as a new attempt and return its number (1, 2, …); 0 when the job is
        ended, unknown, or running under a lease that has not expired."""

    def heartbeat_job(self, key: str, now: float, attempt: int = 0) -> bool:
        """Extend a running job's lease; False when it is no longer running (as `attempt`,
        when given): the attempt has lost its lease and must stop."""

    def finish_job(self, key: str, now: float, state: str = DONE, reason: str = "") -> None:
        """End a job: done, failed or stopped. An ended job never runs again."""

    def fail_job(self, key: str, reason: str, now: float) -> None:
        """End a job as failed, keeping why."""

    def retry_job(self, key: str, reason: str, now: float) -> None:
        """An attempt gave up part-way (e.g. Stream refused its final write): keep the reason
        and stop renewing; the job stays running, so the sweeper re-runs it one lease from now."""

    def requeue_job(self, key: str, now: float, attempt: int = 0, reason: str = "") -> bool:
        """Back to queued with a fresh timestamp, so a sweep re-queues it only once. Only an
        active job (and, when given, only while `attempt` is its latest); False otherwise."""

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        """Running jobs whose lease expired, and queued ones nobody picked up in time."""

    def job(self, key: str) -> JobRecord | None: ...

    def jobs(self, state: str | None = None, limit: int = 50) -> list[JobRecord]:
        """The most recently changed jobs (in `state`, if given), newest first."""

    def request_stop(self, scope: str, now: float) -> None:
        """Ask answers running in `scope` (a conversation or a channel) to stop."""

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        """Whether a stop for any of the scopes was requested at or after `since`."""


def check_ended(state: str) -> str:
    if state not in ENDED:
        raise ValueError(f"a job ends as one of {ENDED}, not {state!r}")
    return state
