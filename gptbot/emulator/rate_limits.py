"""Stream's per-app rate limits: a budget per operation family and fixed one-minute window.

Stream counts each server-side request against its endpoint's per-minute budget, answers
429 with error code 9 once the budget is spent, and reports the budget on every response
in the X-RateLimit-Limit / -Remaining / -Reset headers (reset = Unix seconds). "App rate
limits are enforced both per minute and per second. The per-second limit equals the
per-minute limit divided by 30 to allow for bursts" (docs rate_limits, "App Rate Limits",
GetStream/stream-chat-python docs/debugging_and_cli/rate_limits.md): `bursts=True`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gptbot.emulator.errors import ApiError

WINDOW_S = 60
MESSAGES = "messages"
EVENTS = "events"
# All the bot's message writes share one budget, ephemeral PATCH included: stricter than
# Stream's per-endpoint counting, so a pace that fits here fits on Stream too.
FAMILIES: dict[str, str] = {
    "SendMessage": MESSAGES,
    "UpdateMessage": MESSAGES,
    "UpdateMessagePartial": MESSAGES,
    "EphemeralMessageUpdate": MESSAGES,
    "SendEvent": EVENTS,
}
# Per minute; None = unlimited. Any other operation is its own family, keyed by its name.
DEFAULT_LIMITS: dict[str, int | None] = {MESSAGES: 1000, EVENTS: 10_000}
# Stream's documented self-serve defaults for the other operations served here. Opt-in
# (rate_limits=STREAM_PLAN_LIMITS) so existing tests keep whatever pace they call these at.
STREAM_PLAN_LIMITS: dict[str, int | None] = {
    **DEFAULT_LIMITS,
    **{"GetOrCreateChannel": 10_000, "GetApp": 10_000, "GetMessage": 1000, "GetReplies": 1000},
    **{"QueryUsers": 1000, "UpdateUsers": 300, "UpdateApp": 60, "ListChannelTypes": 60},
    **{"GetChannelType": 60, "CreateChannelType": 60, "UpdateChannelType": 60},
}
BURST_DIVISOR = 30  # per-second budget = per-minute budget / 30 (docs rate_limits)
TOO_MANY_REQUESTS = "Too many requests, check response headers for more information."
RATE_LIMITED_CODE = 9


def family_of(name: str) -> str:
    """The budget an operation draws on; a family name maps to itself."""
    return FAMILIES.get(name, name)


def window_start(at: float) -> int:
    return int(at // WINDOW_S) * WINDOW_S


@dataclass
class Window:
    """One family's requests in one minute: accepted ones used the budget, refused got 429."""

    start: int
    accepted: int = 0
    refused: int = 0

    def count(self, allowed: bool) -> None:
        if allowed:
            self.accepted += 1
        else:
            self.refused += 1


@dataclass(frozen=True)
class Verdict:
    """What the limiter decided for one request, and the headers that say so."""

    family: str
    limit: int | None
    used: int
    reset: int
    allowed: bool

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        # Lowercase on purpose: the SDK's StreamResponse.rate_limit() looks these names up
        # verbatim in a plain dict; HTTP clients match them case-insensitively anyway.
        if self.limit is None:
            return {}  # unlimited here, so there is no true number to report
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }

    def error(self) -> ApiError:
        error = ApiError(429, RATE_LIMITED_CODE, TOO_MANY_REQUESTS)
        error.headers.update(self.headers())
        return error


def burst_limit(per_minute: int | None) -> int | None:
    return None if per_minute is None else max(per_minute // BURST_DIVISOR, 1)


class RateLimiter:
    """Counts requests per family and window. `limits` is live: tests may change it any time.
    `bursts` (off by default, so tests may keep their pace; live too) adds Stream's
    per-second budget; a request it refuses reports that one-second window in its headers.

    Read the counts with current(), windows(), accepted() and refused(); each takes a family
    ("messages", "events") or an operation name ("SendMessage" means "messages").
    """

    def __init__(
        self,
        limits: Mapping[str, int | None] | None,
        clock: Callable[[], float],
        bursts: bool = False,
    ) -> None:
        self.limits: dict[str, int | None] = {**DEFAULT_LIMITS, **(limits or {})}
        self.clock = clock
        self.bursts = bursts
        self._lock = threading.Lock()
        self._windows: dict[str, dict[int, Window]] = {}
        self._seconds: dict[str, Window] = {}  # per family: only the current second

    def check(self, op: str) -> Verdict:
        """Count one request of `op`: accepted while its family's budgets last, else refused."""
        family = family_of(op)
        with self._lock:
            at = self.clock()
            window = self._window(family, window_start(at))
            second = self._second(family, int(at))
            limit = self.limits.get(family)
            burst = burst_limit(limit) if self.bursts else None
            in_minute = limit is None or window.accepted < limit
            in_second = burst is None or second.accepted < burst
            window.count(in_minute and in_second)
            second.count(in_minute and in_second)
            if in_minute and not in_second:
                return Verdict(family, burst, second.accepted, second.start + 1, False)
            return Verdict(family, limit, window.accepted, window.start + WINDOW_S, in_minute)

    def current(self, name: str) -> Window:
        """The counts of the window the clock is in now (zeros if nothing came yet)."""
        start = window_start(self.clock())
        with self._lock:
            found = self._windows.get(family_of(name), {}).get(start, Window(start))
            return copy.copy(found)

    def windows(self, name: str) -> list[Window]:
        """Every window that saw a request of this family, oldest first."""
        with self._lock:
            found = self._windows.get(family_of(name), {})
            return [copy.copy(found[start]) for start in sorted(found)]

    def accepted(self, name: str) -> int:
        return sum(w.accepted for w in self.windows(name))

    def refused(self, name: str) -> int:
        return sum(w.refused for w in self.windows(name))

    def clear(self) -> None:
        """Forget all counts (the limits stay)."""
        with self._lock:
            self._windows.clear()
            self._seconds.clear()

    def _second(self, family: str, start: int) -> Window:
        if self._seconds.get(family, Window(-1)).start != start:
            self._seconds[family] = Window(start)
        return self._seconds[family]

    def _window(self, family: str, start: int) -> Window:
        # Keyed by start, not "the latest", so a test clock moved backwards finds its window.
        return self._windows.setdefault(family, {}).setdefault(start, Window(start))
