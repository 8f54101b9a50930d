"""The ledger contract: one row per model call, what it used and cost, kept for reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

FORGOTTEN = "forgotten"  # the user id of rows whose user asked to be forgotten


@dataclass(frozen=True, slots=True)
class LedgerRow:
    at: float  # unix time the call started
    reply_id: str
    user_id: str
    channel: str  # channel cid "type:id"
    purpose: str  # answer | summary | tool_round | fallback | cached
    provider: str
    model: str
    input_tokens: int  # every prompt token, cached ones included
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int  # reasoning included
    reasoning_tokens: int
    estimated: bool  # True when the stream reported no usage and we estimated
    cost_usd: float | None  # None = unpriced model (never pretend $0)
    first_token_s: float | None
    total_s: float
    outcome: str  # ok | stopped | refused_limit | cached | error:<kind>


class LedgerStore(Protocol):
    def record(self, row: LedgerRow) -> None:
        """Append a row; identical rows are all kept."""

    def rows(self, since: float, until: float) -> list[LedgerRow]:
        """Rows with since ≤ at < until, oldest first (same `at`: in recording order)."""

    def reply_rows(self, reply_id: str, since: float) -> list[LedgerRow]:
        """One reply's rows with at ≥ since, oldest first: what its audit row sums. Read
        without the other replies' rows, which a thousand answers at once would make
        quadratic."""

    def prune_ledger(self, before: float) -> int:
        """Delete rows with at < before; returns how many."""

    def anonymise_user(self, user_id: str) -> int:
        """Replace this user's id by FORGOTTEN in every row, costs and tokens kept; returns
        how many rows."""
