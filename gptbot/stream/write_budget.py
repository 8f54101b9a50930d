"""One write budget for Stream, shared by every process and machine of the app.

Stream limits each app per minute (message writes 1,000, events 10,000) and answers 429 past
that, so answers that flushed on their own clocks could together lose updates. Every write
first takes a token from a bucket in the shared store (`LimitStore.take_token`):

- an intermediate update takes one only when one is free, else it is skipped (coalesced):
  the next flush carries the newer text;
- a must-write (placeholder, part split, final text, indicator event) waits for one, at most
  `max_wait`, then goes ahead and lets Stream decide;
- a 429 holds the bucket for everyone until Stream's reset (`hold_bucket`).

Intermediate updates also draw on a bucket of their own holding a share of the message
budget, so however many answers stream at once the must-writes keep the rest and never
starve behind them.

A large budget (an enterprise app's) is taken a batch at a time: up to `MAX_BATCH` tokens,
never more than a tenth of a second's worth, kept by this process for at most `HELD_S`.
That is one store round trip per batch instead of per write, and the app still never
sends more than its limit (a token held too long is dropped, not returned). At Stream's
default 1,000 a minute a batch is one token, as before.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

MESSAGES = "messages"  # send, update, ephemeral PATCH: one budget on Stream's side
EVENTS = "events"
UPDATES = "updates"  # the intermediate updates' share of MESSAGES
UPDATE_SHARE = 0.5
MAX_WAIT_S = 120.0
WINDOW_S = 60  # Stream's budgets reset on minute boundaries
MAX_BATCH = 20
HELD_S = 1.0


class TokenBuckets(Protocol):
    """The part of `gptbot.store.LimitStore` the budget uses (stream may not import store)."""

    def take_token(
        self, bucket: str, per_minute: int, now: float, burst: int = 0, count: int = 1
    ) -> float: ...

    def hold_bucket(self, bucket: str, until: float) -> None: ...


@dataclass
class BudgetCounters:
    """For operators: what the budget did since the process started."""

    writes_sent: int = 0  # message writes that went out with a token
    events_sent: int = 0
    updates_skipped: int = 0  # intermediate updates coalesced (no token, or dropped on 429)
    waits: int = 0  # must-writes that had to wait for a token
    waited_s: float = 0.0
    rate_limited: int = 0  # 429s seen


class WriteBudget:
    def __init__(
        self,
        buckets: TokenBuckets,
        app: str,
        writes_per_min: int,
        events_per_min: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_S,
    ) -> None:
        self.buckets = buckets
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        share = max(1, int(writes_per_min * UPDATE_SHARE))
        self.rates = {MESSAGES: writes_per_min, EVENTS: events_per_min, UPDATES: share}
        # Per app: several bots (API keys) may share one store.
        self.names = {kind: f"stream:{app}:{kind}" for kind in self.rates}
        self.counters = BudgetCounters()
        self._lock = threading.Lock()
        self._held = {kind: HeldTokens(rate) for kind, rate in self.rates.items()}

    def try_update(self) -> bool:
        """A token for an intermediate update, or False: skip it."""
        # The share first: a share token wasted on an empty MESSAGES bucket costs Stream nothing.
        if self._take(UPDATES) == 0.0 and self._take(MESSAGES) == 0.0:
            return True
        self.skipped()
        return False

    def deadline(self) -> float:
        """Until when a must-write starting now may wait."""
        return self.clock() + self.max_wait

    def expired(self, deadline: float) -> bool:
        return self.clock() >= deadline

    def wait_for(self, kind: str, deadline: float) -> None:
        """Sleep until a token of `kind` is ours, or until the deadline (then go ahead)."""
        started, slept = self.clock(), False
        while (wait := self._take(kind)) > 0.0:
            remaining = deadline - self.clock()
            if remaining <= 0:
                log.warning("no Stream %s token after %.0f s; writing anyway", kind, self.max_wait)
                break
            self.sleep(min(wait, remaining))
            slept = True
        if slept:
            self._count(waits=1, waited_s=self.clock() - started)

    def sent(self, kind: str) -> None:
        self._count(**{"events_sent" if kind == EVENTS else "writes_sent": 1})

    def skipped(self) -> None:
        self._count(updates_skipped=1)

    def rate_limited(self, kind: str, reset: float | None) -> None:
        """Stream answered 429: no tokens for any process until its window resets."""
        now = self.clock()
        # A reset in the past (clock skew) or absurdly far off: assume the next minute.
        until = reset if reset is not None and now < reset <= now + WINDOW_S else next_window(now)
        log.warning("Stream rate-limited %s; holding the budget for %.1f s", kind, until - now)
        self._count(rate_limited=1)
        self._held[kind].drop()
        try:
            self.buckets.hold_bucket(self.names[kind], until)
        except Exception as exc:  # the store is an aid: Stream still enforces its limit
            log.warning("could not hold the %s budget: %s", kind, exc)

    def _take(self, kind: str) -> float:
        held, now = self._held[kind], self.clock()
        if held.take(now):
            return 0.0
        try:
            name, refill, burst = self.names[kind], held.refill, held.burst
            if held.batching(now):
                if self.buckets.take_token(name, refill, now, burst, held.batch) == 0.0:
                    held.keep(held.batch - 1, now + HELD_S)
                    return 0.0
                held.scarce(now + HELD_S)  # near the limit: one at a time for a while
            return self.buckets.take_token(name, refill, now, burst)
        except Exception as exc:  # a store outage must not stop replies; Stream still limits
            log.warning("could not take a %s token: %s", kind, exc)
            return 0.0

    def _count(self, **amounts: float) -> None:
        with self._lock:  # `+=` on an attribute is not atomic across worker threads
            for name, amount in amounts.items():
                setattr(self.counters, name, getattr(self.counters, name) + amount)


def bucket_shape(limit: int) -> tuple[int, int]:
    """(refill per minute, burst) such that no 60 s window ever holds more than `limit`:
    a full bucket (the burst) plus a minute of refill. Stream counts per clock minute, so a
    bucket of `limit` refilled at `limit` a minute could send twice that across a boundary."""
    burst = max(1, limit // 10)
    return max(1, limit - burst), burst


class HeldTokens:
    """The bucket's shape for one limit, and the tokens this process took in a batch and
    has not used yet, good until `until`.

    A batch is a tenth of a second's worth, 1 to MAX_BATCH. A held token goes out up to
    HELD_S after it was taken, so a minute of writes could hold HELD_S more of refill:
    batched buckets refill that much slower, and no 60 s window goes over the limit."""

    def __init__(self, limit: int) -> None:
        self.refill, self.burst = bucket_shape(limit)
        self.batch = max(1, min(MAX_BATCH, self.refill // 600, self.burst))
        if self.batch > 1:
            self.refill -= math.ceil(self.refill * HELD_S / WINDOW_S)
        self.left, self.until = 0, 0.0
        self.singly_until = 0.0
        self._lock = threading.Lock()

    def batching(self, now: float) -> bool:
        return self.batch > 1 and now >= self.singly_until

    def scarce(self, until: float) -> None:
        """A batch was refused: the app is near its limit, where a batch would only cost a
        second round trip per write (and starve behind single takes)."""
        self.singly_until = until

    def take(self, now: float) -> bool:
        with self._lock:
            if self.left and now < self.until:
                self.left -= 1
                return True
            return False

    def keep(self, count: int, until: float) -> None:
        with self._lock:  # two answers may both have taken a batch: keep both, until the
            # sooner end (a token is never used more than HELD_S after it was taken)
            self.until = min(self.until, until) if self.left else until
            self.left += count

    def drop(self) -> None:
        """Stream said 429: what this process held is not worth sending into it."""
        with self._lock:
            self.left, self.until = 0, 0.0


def next_window(now: float) -> float:
    return float(math.floor(now / WINDOW_S) + 1) * WINDOW_S


class ProcessRate:
    """At most `per_s` skippable updates a second from this process (a second's worth may
    come at once). Not Stream's limit, which WriteBudget keeps for the whole app: the CPU of
    one process streaming hundreds of answers, most of which goes into HTTP calls. Above it,
    each answer's intermediate updates come further apart; its text is never lost."""

    def __init__(self, per_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_s = per_s
        self.clock = clock
        self.tokens = float(per_s)
        self.at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.per_s, self.tokens + (now - self.at) * self.per_s)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True
