"""How Stream calls are retried: which failures, and how long to wait before the next try.

The SDK retries nothing on 429/5xx. Connection errors, timeouts, 429 and 5xx are retried;
any other 4xx is final. After a 429 that says when Stream's window resets
(`X-RateLimit-Reset`, or `Retry-After`, read by `RateLimitReset`) the next try waits until
then, at most `MAX_RESET_WAIT_S`: quick retries would only fail again until the reset.
Everything else backs off exponentially with jitter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from stream_chat.base.exceptions import StreamAPIException
from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from gptbot.stream.rate_reset import RateLimitReset

log = logging.getLogger(__name__)
MAX_RESET_WAIT_S = 60.0  # Stream's windows are a minute long: a later reset is a bad clock


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, StreamAPIException):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def is_rate_limit(exc: BaseException | None) -> bool:
    return isinstance(exc, StreamAPIException) and exc.status_code == 429


def is_transient_write(exc: BaseException) -> bool:
    """Transient, except a 429: with a budget that waits for the reset instead."""
    return is_transient(exc) and not is_rate_limit(exc)


class WaitForReset:
    """A tenacity `wait`: until the reset a 429 named, else jittered exponential backoff."""

    def __init__(
        self,
        reset: RateLimitReset,
        clock: Callable[[], float],
        max_backoff: float,
        max_reset_wait: float = MAX_RESET_WAIT_S,
    ) -> None:
        self.reset = reset
        self.clock = clock
        self.max_reset_wait = max_reset_wait
        self.backoff = wait_random_exponential(multiplier=0.2, max=max_backoff)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        until_reset = self.until_reset() if is_rate_limit(exc) else None
        return until_reset if until_reset is not None else float(self.backoff(state))

    def until_reset(self) -> float | None:
        """Seconds until the reset of this thread's latest 429; None when it named none
        or one already past (a skewed clock: back off as usual)."""
        reset = self.reset.latest()
        if reset is None or (delay := reset - self.clock()) <= 0:
            return None
        return min(delay, self.max_reset_wait)


def retry_policy(
    retry: Callable[[BaseException], bool],
    attempts: int,
    wait: WaitForReset,
    sleep: Callable[[float], None],
) -> Retrying:
    return Retrying(
        retry=retry_if_exception(retry),
        stop=stop_after_attempt(attempts),
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
