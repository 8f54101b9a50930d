"""The storage contract. Both backends pass the same tests (tests/test_store_contract.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Turn:
    """One `/gpt` exchange in a conversation; `id` is the reply id, so a re-run overwrites."""

    id: str
    asked_at: float
    user_id: str
    user_name: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """What is remembered: a summary of folded-away turns, then the turns, oldest first."""

    summary: str = ""
    turns: list[Turn] = field(default_factory=list)


class Store(Protocol):
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

    def add_turn(self, conversation: str, turn: Turn) -> None:
        """Append a turn; a turn with the same id replaces the earlier one."""

    def load_conversation(self, conversation: str) -> Conversation:
        """The summary and the turns (oldest first); empty for an unknown conversation."""

    def fold_conversation(self, conversation: str, turn_ids: list[str], summary: str) -> None:
        """In one step: drop these turns and set the summary that now stands for them."""

    def forget_conversation(self, conversation: str) -> None:
        """Delete the turns and the summary."""

    def channel_settings(self, cid: str) -> dict[str, str]: ...

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        """Set one setting of a channel; None removes it."""

    def request_stop(self, scope: str, now: float) -> None:
        """Ask answers running in `scope` (a conversation or a channel) to stop."""

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        """Whether a stop for any of the scopes was requested at or after `since`."""

    def close(self) -> None: ...
