"""The share of 👍 among the votes on the bot's replies, for `gptbot usage` and `/gpt usage all`.

A vote counts in the group of the reply it is on (the reply's answer row in the ledger says
its user, channel, model and day); a vote on a reply outside the report's rows goes by what
the vote itself records: its channel, its model, the day it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gptbot.costs.periods import Periods
from gptbot.store import LedgerRow, Vote
from gptbot.store.feedback import DOWN, UP

ANSWERS = frozenset({"answer", "cached"})
UNKNOWN = "(earlier replies)"  # the asker of a reply outside the report's rows


@dataclass(frozen=True, slots=True)
class Tally:
    up: int = 0
    down: int = 0

    @classmethod
    def of(cls, votes: Iterable[Vote]) -> Tally:
        found = [vote.vote for vote in votes]
        return cls(found.count(UP), found.count(DOWN))

    @property
    def rate(self) -> float | None:
        """The share of 👍, or None with no votes."""
        return self.up / (self.up + self.down) if self.up + self.down else None

    def describe(self) -> str:
        if self.rate is None:
            return "no votes yet"
        return f"{self.up:,} 👍, {self.down:,} 👎 ({self.rate:.0%} 👍)"


VOTE_KEYS: dict[str, Callable[[Vote, Periods], str]] = {
    "user": lambda vote, _periods: UNKNOWN,
    "channel": lambda vote, _periods: vote.channel,
    "model": lambda vote, _periods: vote.model,
    "day": lambda vote, periods: periods.day(vote.at),
}


def votes_by_group(
    votes: Iterable[Vote], rows: Sequence[LedgerRow], key_of: Callable[[LedgerRow], str],
    by: str, periods: Periods,
) -> dict[str, list[Vote]]:
    """Each vote under the key of its reply's answer row, else under the vote's own key."""
    reply_keys = {row.reply_id: key_of(row) for row in rows if row.purpose in ANSWERS}
    model_keys = {row.model: key_of(row) for row in rows} if by == "model" else {}
    groups: dict[str, list[Vote]] = {}
    for vote in votes:
        own = VOTE_KEYS[by](vote, periods)
        key = reply_keys.get(vote.reply_id) or model_keys.get(vote.model, own)
        groups.setdefault(key, []).append(vote)
    return groups
