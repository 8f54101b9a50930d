"""Forgetting on schedule: usage rows and votes on replies past GPTBOT_LEDGER_DAYS; memory
turns, summaries and audit records past GPTBOT_RETENTION_DAYS; expired counters, cached
answers, and turn-order entries of jobs a day gone. Runs in the worker's sweeper, never in
the webhook's 1 s budget."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gptbot.store import Stores

log = logging.getLogger(__name__)
DAY_S = 86400.0


class Housekeeping:
    def __init__(
        self,
        stores: Stores,
        ledger_days: int,
        every_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        retention_days: int | None = None,  # GPTBOT_RETENTION_DAYS; None keeps memory and audit
    ) -> None:
        self.stores = stores
        self.ledger_days = ledger_days
        self.retention_days = retention_days
        self.every_s = every_s
        self.clock = clock
        self.last = float("-inf")

    def __call__(self) -> None:
        now = self.clock()
        if now - self.last < self.every_s:
            return
        self.last = now
        usage_cutoff = now - self.ledger_days * DAY_S
        pruned = (
            self.stores.ledger.prune_ledger(usage_cutoff),
            self.stores.feedback.prune_votes(usage_cutoff),
            self.stores.limits.prune_limits(now),
            self.stores.answers.prune_answers(now),
            self.stores.turn_order.prune_turn_order(now - DAY_S),
        )
        if any(pruned):
            log.info("pruned %d usage rows, %d votes, %d counters, %d cached answers, "
                     "%d turn-order entries", *pruned)
        self.retain(now)

    def retain(self, now: float) -> tuple[int, int]:
        """Delete the turns (and summaries left without turns) and the audit records older
        than the retention period; how many turns and records."""
        if self.retention_days is None:
            return 0, 0
        cutoff = now - self.retention_days * DAY_S
        deleted = (self.stores.conversations.prune_turns(cutoff),
                   self.stores.audit.prune_audit(cutoff))
        if any(deleted):
            log.info("retention (%d days): deleted %d remembered turns, %d audit records",
                     self.retention_days, *deleted)
        return deleted
