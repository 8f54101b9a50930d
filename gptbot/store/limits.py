"""The limits contract: atomic counters, once-per-period marks and token buckets.

Owns the `Charge` and `LimitStore` definitions and the exact semantics both backends share
(the token-bucket arithmetic below is mirrored line by line in the Redis Lua script).
Counters and marks live in one key space: a mark is a counter of value 1.
A counter is live while `now < expires_at`; at or after that it reads as absent (0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Float refill arithmetic may land a hair below a whole token (0.1 * 10 == 0.9999...);
# without this slack the caller would be told to wait 1e-16 s and retry for nothing.
TOKEN_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Charge:
    key: str  # e.g. "count:user:alice:2026-12-01"
    amount: int  # count, or micro-USD; never negative (use `adjust` to give back)
    limit: int  # 0 = no limit (still counted)
    expires_at: float  # unix time after which the counter may be forgotten


class LimitStore(Protocol):
    def charge(self, charges: Sequence[Charge], now: float) -> Charge | None:
        """All or nothing: when every counter + amount stays ≤ its limit, add every amount
        and return None; otherwise change nothing and return the first charge that would go
        over. A key charged twice in one call is checked against its running total. Each
        written counter takes its charge's `expires_at` (the last one for a repeated key)."""

    def adjust(self, key: str, delta: int, expires_at: float, now: float | None = None) -> None:
        """Add delta (may be negative: settling a reservation); never below 0. An expired
        counter counts from 0. `now` defaults to the wall clock."""

    def counters(self, keys: Sequence[str], now: float) -> dict[str, int]:
        """Current values (0 for missing or expired keys); every asked key is in the dict."""

    def mark_once(self, key: str, expires_at: float, now: float) -> bool:
        """True for the first caller only (until expiry)."""

    def take_token(
        self, bucket: str, per_minute: int, now: float, burst: int = 0, count: int = 1
    ) -> float:
        """Token bucket of capacity `burst` (0: per_minute) refilled continuously at
        per_minute/60 per second, starting full. Returns 0.0 and takes `count` tokens when
        that many are available; otherwise takes nothing and returns the seconds until they
        will be."""

    def hold_bucket(self, bucket: str, until: float) -> None:
        """Stream answered 429 with a reset time: no tokens for anyone until `until`, when
        the bucket holds one token and refills from there. An earlier hold never shortens
        a later one."""

    def prune_limits(self, now: float) -> int:
        """Forget expired counters and marks; returns how many. (Buckets are one row per
        bucket name, never pruned: a missing bucket and a full one behave the same.)"""


def check_charges(charges: Sequence[Charge]) -> None:
    for charge in charges:
        if charge.amount < 0 or charge.limit < 0:
            raise ValueError(f"charge amounts and limits must not be negative: {charge!r}")


def check_rate(per_minute: int) -> None:
    if per_minute <= 0:
        raise ValueError(f"a token bucket needs per_minute > 0, not {per_minute!r}")


def check_count(count: int, per_minute: int, burst: int) -> None:
    if not 1 <= count <= (burst or per_minute):
        raise ValueError(f"a bucket of {burst or per_minute} cannot give {count!r} tokens at once")


def take_from(
    state: tuple[float, float] | None, per_minute: int, now: float, burst: int = 0,
    count: int = 1,
) -> tuple[float, tuple[float, float] | None]:
    """The wait (0.0 = took `count`) and the bucket's new (tokens, at) state, None if
    unchanged.

    `at` is when `tokens` was counted; after a hold it lies in the future."""
    rate, capacity = per_minute / 60.0, float(burst or per_minute)
    tokens, at = state if state is not None else (capacity, now)
    if now < at:
        return at - now + max(0.0, count - tokens) / rate, None
    tokens = min(capacity, tokens + (now - at) * rate)
    if tokens >= count - TOKEN_EPSILON:
        return 0.0, (max(0.0, tokens - count), now)
    return (count - tokens) / rate, None
