"""The job contract: claims that make a delivery run once, leases, and stop requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

QUEUED, RUNNING, DONE = "queued", "running", "done"
# Finished jobs are remembered this long so a late duplicate delivery is still recognised.
DONE_RETENTION_S = 7 * 24 * 3600
# A stop request only matters to answers already asked when it came; a day is plenty.
STOP_RETENTION_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class JobRecord:
    key: str
    payload: dict[str, Any]
    state: str
    updated_at: float


class JobStore(Protocol):
    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        """Record a new job; False when the key was seen before (a duplicate delivery)."""

    def release_job(self, key: str) -> None:
        """Forget a claim whose job could not be queued, so a retry can claim it again."""

    def start_job(self, key: str, now: float, lease_s: float) -> bool:
        """Mark running; False if done, or running under a lease that has not expired."""

    def heartbeat_job(self, key: str, now: float) -> None:
        """Extend a running job's lease."""

    def finish_job(self, key: str, now: float) -> None: ...

    def requeue_job(self, key: str, now: float) -> None:
        """Back to queued with a fresh timestamp, so a sweep re-queues it only once."""

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        """Running jobs whose lease expired, and queued ones nobody picked up in time."""

    def request_stop(self, scope: str, now: float) -> None:
        """Ask answers running in `scope` (a conversation or a channel) to stop."""

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        """Whether a stop for any of the scopes was requested at or after `since`."""
