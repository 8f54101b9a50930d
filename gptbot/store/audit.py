"""The audit contract: one record per answered command, who asked what and what was answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

OUTCOMES = ("done", "failed", "stopped", "refused", "cached", "handoff")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: float  # unix time the attempt ended
    reply_id: str  # one record per reply: a re-run replaces it
    user_id: str
    channel: str  # channel cid "type:id"
    question: str  # as sent to the model (redacted when redaction is on)
    answer: str  # as received (redacted when redaction is on)
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None = no priced call (never pretend $0)
    outcome: str  # one of OUTCOMES
    moderation: tuple[str, ...] = ()  # moderation verdicts, for later


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: float = float("-inf")
    until: float = float("inf")
    user_id: str | None = None
    channel: str | None = None

    def matches(self, record: AuditRecord) -> bool:
        return (
            self.since <= record.at < self.until
            and self.user_id in (None, record.user_id)
            and self.channel in (None, record.channel)
        )


class AuditStore(Protocol):
    def record_audit(self, record: AuditRecord) -> None:
        """Keep a record; a record with the same reply id replaces the earlier one."""

    def audit_records(self, query: AuditQuery) -> list[AuditRecord]:
        """Records with since ≤ at < until (and the user, the channel, if given), oldest first."""

    def audit_record(self, reply_id: str) -> AuditRecord | None:
        """The record of this reply, if there is one."""

    def prune_audit(self, before: float) -> int:
        """Delete records with at < before; returns how many."""

    def forget_user(self, user_id: str) -> int:
        """Delete every record of this user; returns how many."""
