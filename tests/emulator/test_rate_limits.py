"""Stream's per-app rate limits in the emulator, met through the stream-chat SDK over loopback.

The expected numbers are written out by hand (limits, minute boundaries, reset times), so a
limiter that counts or rounds wrongly fails here instead of agreeing with itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests
from stream_chat.types.rate_limit import RateLimitInfo

from gptbot.emulator import EmulatorState, create_emulator_app
from gptbot.emulator.rate_limits import STREAM_PLAN_LIMITS, RateLimiter, Window
from tests.support.emulated import BOT, Emulated, WallClock, refused
from tests.support.emulated import running as run_emulator

API_KEY = "rate-limit-key"
API_SECRET = "rate-limit-secret-long-enough-for-hs256-0123456789"
MINUTE = 1_700_000_040  # = 28_333_334 * 60, a window boundary worked out by hand
TOO_MANY = "Too many requests, check response headers for more information."


@pytest.fixture
def clock() -> WallClock:
    return WallClock(MINUTE + 15.5)


@contextmanager
def running(limits: dict[str, int | None], clock: WallClock) -> Iterator[Emulated]:
    with run_emulator(EmulatorState(API_KEY, API_SECRET, rate_limits=limits, clock=clock)) as emu:
        yield emu


def info(limit: int, remaining: int, reset: int) -> RateLimitInfo:
    return RateLimitInfo(limit, remaining, datetime.fromtimestamp(reset, UTC))


def send(emu: Emulated, text: str) -> Any:
    return emu.client.channel("messaging", "general").send_message({"text": text}, BOT)


def ephemeral(emu: Emulated, message_id: str, text: str) -> Any:
    return emu.client.patch(f"messages/{message_id}/ephemeral", data={"set": {"text": text}})


def limit_headers(response: requests.Response) -> tuple[str | None, ...]:
    names = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
    return tuple(response.headers.get(name) for name in names)


def test_the_301st_message_write_in_a_minute_gets_streams_429(clock: WallClock) -> None:
    with running({"messages": 300}, clock) as emu:
        first = send(emu, "0")
        message_id = first["message"]["id"]
        for i in range(1, 150):
            send(emu, str(i))
        for i in range(149):
            emu.client.update_message_partial(message_id, {"set": {"text": f"v{i}"}}, BOT)
        last = emu.client.update_message({"id": message_id, "text": "300th", "user_id": BOT})
        error = refused(send, emu, "301st")
        assert first.rate_limit() == info(300, 299, MINUTE + 60)
        assert last.rate_limit() == info(300, 0, MINUTE + 60)
        assert (error.status_code, error.error_code, error.error_message) == (429, 9, TOO_MANY)
        assert emu.seen[-1].status_code == 429
        assert limit_headers(emu.seen[-1]) == ("300", "0", str(MINUTE + 60))
        assert emu.seen[-1].json()["StatusCode"] == 429
        assert len(emu.state.messages) == 150  # the refused send stored nothing
        assert emu.state.rate_limiter.current("messages") == Window(MINUTE, 300, 1)
        assert emu.state.requests["SendMessage"] == 151  # refused calls still reached us


def test_the_ephemeral_patch_draws_on_the_message_write_budget(clock: WallClock) -> None:
    with running({"messages": 3}, clock) as emu:
        message_id = send(emu, "hi")["message"]["id"]
        assert ephemeral(emu, message_id, "a").rate_limit() == info(3, 1, MINUTE + 60)
        assert ephemeral(emu, message_id, "ab").rate_limit() == info(3, 0, MINUTE + 60)
        assert refused(ephemeral, emu, message_id, "abc").status_code == 429
        partial = refused(emu.client.update_message_partial, message_id, {"set": {}}, BOT)
        assert (partial.status_code, partial.error_code) == (429, 9)
        assert emu.state.rate_limiter.current("EphemeralMessageUpdate") == Window(MINUTE, 3, 2)
        assert emu.state.requests["EphemeralMessageUpdate"] == 3


def test_events_have_their_own_budget(clock: WallClock) -> None:
    with running({"messages": 1, "events": 2}, clock) as emu:
        message_id = send(emu, "hi")["message"]["id"]
        assert refused(send, emu, "over").status_code == 429
        channel = emu.client.channel("messaging", "general")
        typing = {"type": "typing.start"}
        assert channel.send_event(typing, BOT).rate_limit() == info(2, 1, MINUTE + 60)
        assert channel.send_event(typing, BOT).rate_limit() == info(2, 0, MINUTE + 60)
        assert refused(channel.send_event, typing, BOT).error_code == 9
        assert limit_headers(emu.seen[-1]) == ("2", "0", str(MINUTE + 60))
        limiter = emu.state.rate_limiter
        assert (limiter.current("events"), limiter.current("messages")) == (
            Window(MINUTE, 2, 1),
            Window(MINUTE, 1, 1),
        )
        unlimited = emu.client.get_message(message_id)  # other operations: no budget
        assert unlimited.rate_limit() is None
        assert len(emu.state.events) == 2


def test_the_window_resets_when_the_minute_turns(clock: WallClock) -> None:
    with running({"messages": 2}, clock) as emu:
        send(emu, "a")
        send(emu, "b")
        assert refused(send, emu, "c").status_code == 429
        clock.at = MINUTE + 59.999
        assert refused(send, emu, "d").status_code == 429
        clock.at = MINUTE + 60
        assert send(emu, "e").rate_limit() == info(2, 1, MINUTE + 120)
        limiter = emu.state.rate_limiter
        assert limiter.windows("messages") == [Window(MINUTE, 2, 2), Window(MINUTE + 60, 1, 0)]
        assert (limiter.accepted("SendMessage"), limiter.refused("SendMessage")) == (3, 2)
        assert [m["text"] for m in emu.state.messages.values()] == ["a", "b", "e"]
        emu.state.clock = WallClock(MINUTE + 130)  # a clock swapped after start-up rules too
        assert send(emu, "f").rate_limit() == info(2, 1, MINUTE + 180)


# -- header and body details through Flask's test client ----------------------------------


def call(client: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    token = jwt.encode({"server": True}, API_SECRET, algorithm="HS256")
    headers = {"Authorization": token}
    return client.open(path, method=method, json=body, headers=headers,
                       query_string={"api_key": API_KEY})


def test_429_body_and_headers_are_streams(clock: WallClock) -> None:
    state = EmulatorState(API_KEY, API_SECRET, clock=clock)
    assert state.rate_limits == {"messages": 1000, "events": 10_000}
    client = create_emulator_app(state).test_client()
    message = {"message": {"text": "hi", "user_id": BOT}}
    ok = call(client, "POST", "/channels/messaging/general/message", message)
    assert ok.status_code == 201
    assert limit_headers(ok) == ("1000", "999", str(MINUTE + 60))
    event = {"event": {"type": "typing.start", "user_id": BOT}}
    sent = call(client, "POST", "/channels/messaging/general/event", event)
    assert limit_headers(sent) == ("10000", "9999", str(MINUTE + 60))
    state.rate_limits["messages"] = 1  # limits are live
    over = call(client, "POST", "/channels/messaging/general/message", message)
    assert over.status_code == 429
    assert limit_headers(over) == ("1", "0", str(MINUTE + 60))
    body = {k: v for k, v in over.get_json().items() if k != "duration"}
    assert body == {"code": 9, "message": TOO_MANY, "StatusCode": 429,
                    "more_info": "https://getstream.io/chat/docs/api_errors_response",
                    "details": []}


def test_an_injected_429_reports_the_true_limit_and_uses_the_budget(clock: WallClock) -> None:
    state = EmulatorState(API_KEY, API_SECRET, rate_limits={"messages": 5}, clock=clock)
    client = create_emulator_app(state).test_client()
    state.inject_fault("POST", r"/message$", 429)
    message = {"message": {"text": "hi", "user_id": BOT}}
    faulted = call(client, "POST", "/channels/messaging/general/message", message)
    assert faulted.status_code == 429
    assert limit_headers(faulted) == ("5", "0", str(MINUTE + 60))
    ok = call(client, "POST", "/channels/messaging/general/message", message)
    assert limit_headers(ok) == ("5", "3", str(MINUTE + 60))


# -- the limiter's arithmetic alone --------------------------------------------------------


def test_default_budget_is_1000_message_writes_then_refusals(clock: WallClock) -> None:
    limiter = RateLimiter(None, clock)
    verdicts = [limiter.check(op) for op in ["SendMessage", "UpdateMessagePartial"] * 501]
    assert [v.allowed for v in verdicts].count(True) == 1000
    assert verdicts[999].allowed and not verdicts[1000].allowed
    assert (limiter.accepted("messages"), limiter.refused("messages")) == (1000, 2)
    assert limiter.check("GetMessage").headers() == {}  # unlimited unless configured


def test_stream_plan_limits_are_opt_in_per_operation(clock: WallClock) -> None:
    limiter = RateLimiter(STREAM_PLAN_LIMITS, clock)
    allowed = [limiter.check("UpdateApp").allowed for _ in range(61)]
    assert allowed == [True] * 60 + [False]
    assert limiter.check("GetApp").headers()["x-ratelimit-remaining"] == "9999"
    assert limiter.current("GetOrCreateChannel") == Window(MINUTE, 0, 0)
