"""When Stream's rate-limit window resets, read off a 429's headers (X-RateLimit-Reset,
Retry-After), for the write budget's hold and the retries' wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from gptbot.core.retry_after import parse_retry_after


class RateLimitReset:
    """When this thread's latest 429 said Stream's window resets (Unix seconds), from
    X-RateLimit-Reset or Retry-After (the later, when both). `StreamAPIException` keeps only
    text and status, so a response hook on the SDK's requests session reads the headers."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # turns a Retry-After delay into a time
        self._local = threading.local()  # the hook runs in the thread that made the call

    def attach(self, session: Any) -> None:
        hooks = getattr(session, "hooks", None)
        if isinstance(hooks, dict):
            hooks.setdefault("response", []).append(self._record)

    def latest(self) -> float | None:
        return getattr(self._local, "reset", None)

    def record(self, status: int, headers: Any) -> None:
        """Also called by the hot-write path (transport.py), which runs no session hooks."""
        self._local.reset = self._reset_of(headers) if status == 429 else None

    def _record(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.record(response.status_code, response.headers)

    def _reset_of(self, headers: Any) -> float | None:
        reset = parse_reset(headers.get("x-ratelimit-reset"))
        delay = parse_retry_after(headers.get("retry-after"))
        retry_at = None if delay is None else self.clock() + delay
        known = [at for at in (reset, retry_at) if at is not None]
        return max(known) if known else None


def parse_reset(header: str | None) -> float | None:
    try:
        return float(header) if header else None
    except ValueError:
        return None
