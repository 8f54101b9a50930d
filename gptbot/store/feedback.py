"""The feedback contract: 👍 / 👎 reactions on the bot's replies, one vote per person a reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

UP, DOWN = 1, -1


@dataclass(frozen=True, slots=True)
class Vote:
    at: float  # unix time of the reaction
    reply_id: str  # the bot's reply (its first part)
    user_id: str  # who reacted
    channel: str  # channel cid "type:id"
    vote: int  # UP or DOWN
    model: str  # the model that answered, as the ledger knows it ("" when unknown)
    persona: str  # the channel's persona when the vote came ("" for the default prompt)
    cost_usd: float | None  # what the reply cost (None: unpriced or unknown)


class FeedbackStore(Protocol):
    def record_vote(self, vote: Vote) -> None:
        """Keep `vote` as this person's vote on the reply, replacing an earlier one."""

    def withdraw_vote(self, reply_id: str, user_id: str, vote: int) -> bool:
        """Remove this person's vote on the reply if it is `vote` (a 👍 taken back leaves a
        later 👎 alone); whether one was removed."""

    def votes(self, since: float, until: float) -> list[Vote]:
        """Votes with since ≤ at < until, oldest first."""

    def prune_votes(self, before: float) -> int:
        """Delete votes with at < before; returns how many."""

    def forget_voter(self, user_id: str) -> int:
        """Delete this person's votes; returns how many."""
