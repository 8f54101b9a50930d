"""How Stream calls an app's webhooks: signed POSTs, retried under the same X-Webhook-Id
with X-Webhook-Attempt counting 1, 2, 3… (docs webhooks_overview, "All webhook requests
contain these headers": the id "is consistent between retries", the attempt "starting from 1").

Used for custom-command calls (commands.py) and app event hooks (event_hooks.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

Json = dict[str, Any]
# Statuses Stream retries ("Response code is 408, 429 or >=500"): the push_webhook page.
RETRIED_STATUSES = frozenset({408, 429})


class HttpPoster(Protocol):
    def post(
        self, url: str, *, data: bytes, headers: Mapping[str, str], timeout: float
    ) -> requests.Response: ...


@dataclass(frozen=True)
class HookResult:
    """One attempt's outcome: rewritten, unchanged, cancelled, timeout, error or unreachable."""

    outcome: str
    status: int | None = None
    reply: Json | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome in ("rewritten", "unchanged", "cancelled")

    @property
    def failure(self) -> str | None:
        """Which of Stream's retry rules applies: "status", "network", "timeout" or None."""
        if self.outcome == "timeout":
            return "timeout"
        if self.outcome == "unreachable":
            return "network"
        retried = self.status in RETRIED_STATUSES or (self.status or 0) >= 500
        return "status" if self.outcome == "error" and retried else None


@dataclass(frozen=True)
class RetryPolicy:
    """Most attempts per kind of failure, the timeout of one attempt and of all of them."""

    timeout_s: float
    budget_s: float
    attempts: Mapping[str, int] = field(
        default_factory=lambda: {"status": 3, "network": 2, "timeout": 3}
    )

    def allows(self, failure: str | None, attempt: int) -> bool:
        return failure is not None and attempt < self.attempts.get(failure, 1)


# App event hooks: "Response code is 408, 429 or >=500: 3 attempts; Network error: 2
# attempts; Request timeout: 3 attempts. The timeout of one request is 6 seconds, and the
# request with all retries cannot exceed the duration of 15 seconds." (getstream.io/chat/
# docs/<sdk>/push_webhook/, "Performance and Error Handling"). No backoff is published.
EVENT_HOOK_POLICY = RetryPolicy(timeout_s=6.0, budget_s=15.0)
# Custom commands: "Stream Chat will give your endpoint 1 second of time to reply" and then
# "continue with the execution and save the message as usual" (docs custom_commands_webhook,
# "Performance considerations"). So the same retry rules, but inside that one second: a
# timeout spends it all and is never retried; a quick 5xx may be tried again in time.
CUSTOM_COMMAND_POLICY = RetryPolicy(timeout_s=1.0, budget_s=1.0)
# Stream publishes no backoff; the emulator waits this long, doubled at each retry.
DEFAULT_BACKOFF_S = 0.05


@dataclass(frozen=True)
class Delivery:
    """One webhook call and how to send it: `deliveries` forces that many attempts at least
    (a test's way to make Stream deliver a duplicate); `on_attempt` sees every attempt."""

    url: str
    body: bytes
    headers: Callable[[int], dict[str, str]]  # the signed headers of attempt n
    policy: RetryPolicy
    http: HttpPoster = requests
    backoff_s: float = DEFAULT_BACKOFF_S
    deliveries: int = 1
    on_attempt: Callable[[int, HookResult, float], None] = lambda *_: None


def deliver(delivery: Delivery) -> HookResult:
    """Every attempt Stream would make; the answer is the first delivered one, else the last."""
    started = time.monotonic()
    results: list[HookResult] = []
    while _another(delivery, results, time.monotonic() - started):
        if results:
            time.sleep(delivery.backoff_s * 2 ** (len(results) - 1))
        left = delivery.policy.budget_s - (time.monotonic() - started)
        results.append(_attempt(delivery, len(results) + 1, left))
    return next((r for r in results if r.delivered), results[-1])


def _another(delivery: Delivery, results: list[HookResult], elapsed: float) -> bool:
    if len(results) < delivery.deliveries:
        return True
    last = results[-1]
    pause = delivery.backoff_s * 2 ** (len(results) - 1)
    in_time = elapsed + pause < delivery.policy.budget_s
    return in_time and delivery.policy.allows(last.failure, len(results))


def _attempt(delivery: Delivery, attempt: int, left_s: float) -> HookResult:
    # A forced duplicate past the budget still gets a whole attempt's time.
    timeout = min(delivery.policy.timeout_s, left_s) if left_s > 0 else delivery.policy.timeout_s
    started = time.perf_counter()
    result = post_once(delivery.http, delivery.url, delivery.body, delivery.headers(attempt),
                       timeout)
    delivery.on_attempt(attempt, result, (time.perf_counter() - started) * 1000)
    return result


def post_once(
    http: HttpPoster, url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> HookResult:
    try:
        response = http.post(url, data=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        return HookResult("timeout")
    except requests.RequestException:
        return HookResult("unreachable")
    if not 200 <= response.status_code < 300:
        return HookResult("error", response.status_code)
    return parse_reply(response)


def parse_reply(response: requests.Response) -> HookResult:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "message" not in payload:
        return HookResult("unchanged", response.status_code)
    reply = payload["message"]
    if reply is None:
        return HookResult("cancelled", response.status_code)
    if not isinstance(reply, dict):
        return HookResult("unchanged", response.status_code)
    return HookResult("rewritten", response.status_code, reply)


def signed_headers(
    api_key: str, api_secret: str, raw: bytes, webhook_id: str, attempt: int, compressed: bool
) -> dict[str, str]:
    # The signature covers the uncompressed JSON, as Stream signs before gzipping.
    signature = hmac.new(api_secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": signature,
        "X-Api-Key": api_key,
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Attempt": str(attempt),
    }
    if compressed:
        headers["Content-Encoding"] = "gzip"
    return headers
