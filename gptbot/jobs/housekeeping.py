"""Forgetting on schedule: usage rows past GPTBOT_LEDGER_DAYS, expired counters and cached
answers. Runs in the worker's sweeper, never in the webhook's 1 s budget."""

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
    ) -> None:
        self.stores = stores
        self.ledger_days = ledger_days
        self.every_s = every_s
        self.clock = clock
        self.last = float("-inf")

    def __call__(self) -> None:
        now = self.clock()
        if now - self.last < self.every_s:
            return
        self.last = now
        pruned = (
            self.stores.ledger.prune_ledger(now - self.ledger_days * DAY_S),
            self.stores.limits.prune_limits(now),
            self.stores.answers.prune_answers(now),
        )
        if any(pruned):
            log.info("pruned %d usage rows, %d counters, %d cached answers", *pruned)
