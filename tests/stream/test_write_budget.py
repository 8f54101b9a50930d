"""The app's shared write budget for Stream, with a fake clock and a real limits store (on
SQLite and on Redis, through the `stores` fixture): intermediate updates are skipped when the
budget is spent, must-writes wait for it, and a 429 holds every process until its reset."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable

import pytest
import responses
from stream_chat import StreamChat

from gptbot.store.limits import LimitStore
from gptbot.stream.api import StreamApi
from gptbot.stream.reply import ReplyTarget, ReplyWriter
from gptbot.stream.write_budget import EVENTS, MESSAGES, UPDATES, WriteBudget, next_window
from tests.support.common import API_KEY, API_SECRET, STREAM_URL, make_config
from tests.support.fakes import FakeClock, Sleeper

PUT_RE = re.compile(rf"{STREAM_URL}/messages/[^/?]+(\?.*)?$")
PATCH_RE = re.compile(rf"{STREAM_URL}/messages/[^/?]+/ephemeral(\?.*)?$")
TOO_MANY = {"code": 9, "message": "Too many requests", "StatusCode": 429}
FIELDS = {"text": "growing", "generating": True}




def make_budget(limits: LimitStore, clock: FakeClock, writes: int = 60) -> WriteBudget:
    return WriteBudget(limits, "app", writes, 600, clock=clock, sleep=Sleeper(clock))


def make_api(limits: LimitStore, clock: FakeClock, writes: int = 60) -> StreamApi:
    client = StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL)
    return StreamApi(client, max_wait=0, budget=make_budget(limits, clock, writes))


def budget_of(api: StreamApi) -> WriteBudget:
    assert api.budget is not None
    return api.budget


def drain(api: StreamApi, now: float) -> None:
    """Other processes spend every message token the app has left."""
    budget = budget_of(api)
    while budget.buckets.take_token(budget.names[MESSAGES], budget.rates[MESSAGES], now) == 0.0:
        pass


def calls(mock: responses.RequestsMock, method: str) -> list[dict]:
    return [json.loads(c.request.body or "{}") for c in mock.calls if c.request.method == method]


def answers(*statuses: int, reset: float | None = None) -> Callable:
    """A responses callback answering with `statuses` in turn (the last one from then on)."""
    pending = list(statuses)

    def reply(_request: object) -> tuple[int, dict[str, str], str]:
        status = pending.pop(0) if len(pending) > 1 else pending[0]
        if status != 429:
            return status, {}, json.dumps({"message": {}})
        headers = {"X-RateLimit-Reset": f"{reset:.0f}"} if reset is not None else {}
        return 429, headers, json.dumps(TOO_MANY)

    return reply


def test_skips_intermediate_updates_when_spent_and_the_final_write_waits(stores, http):
    clock = FakeClock()
    api = make_api(stores.limits, clock)
    budget = budget_of(api)
    drain(api, clock.now)
    writer = ReplyWriter(api, ReplyTarget("messaging", "general", "gpt-m1", None, "gpt-bot"),
                         0.5, 5000, clock)
    assert writer.begin()  # the placeholder waits for a token: 54 a minute refill a 6 burst
    assert clock.now == pytest.approx(1000 + 60 / 54) and budget.counters.waits == 1
    words = [f"w{i} " for i in range(40)]
    for word in words:  # 4 s of text: 8 flushes, tokens for about half of them
        writer.add(word)
        clock.now = round(clock.now + 0.1, 6)
    skipped = budget.counters.updates_skipped
    assert skipped >= 3 and len(calls(http, "PATCH")) == 8 - skipped
    drain(api, clock.now)  # the app is busy again right when the answer ends
    before = clock.now
    writer.finish()
    assert clock.now > before  # the final text waited for its token...
    final = calls(http, "PUT")[-1]["set"]
    assert final == {"text": "".join(words).rstrip(), "generating": False}  # ...and is exact
    assert budget.counters.waits == 2 and budget.counters.rate_limited == 0


def test_a_429_holds_the_bucket_for_every_process_until_its_reset(stores):
    clock = FakeClock()  # 1000.0: the minute window resets at 1020
    one, two = make_api(stores.limits, clock), make_api(stores.limits, clock)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.PATCH, PATCH_RE, callback=answers(429, reset=1020))
        mock.add_callback(responses.PUT, PUT_RE, callback=answers(200))
        assert one.try_show_update("m1", FIELDS, "gpt-bot") is False  # dropped, not retried
        assert budget_of(one).counters.rate_limited == 1 and len(mock.calls) == 1
        clock.now += 5
        assert two.try_show_update("m2", FIELDS, "gpt-bot") is False  # held: nothing sent
        assert len(mock.calls) == 1
        two.update_message("m2", {"text": "final", "generating": False}, "gpt-bot")
        assert clock.now >= 1020  # the must-write waited for the reset, then went out
        assert [c.request.method for c in mock.calls] == ["PATCH", "PUT"]
        assert budget_of(two).counters.updates_skipped == 1


def test_a_must_write_meeting_a_429_retries_once_after_the_reset(stores):
    clock = FakeClock()
    api = make_api(stores.limits, clock)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.PUT, PUT_RE, callback=answers(429, 200, reset=1030))
        api.update_message("m1", {"text": "final", "generating": False}, "gpt-bot")
        assert len(mock.calls) == 2  # no burst of quick retries that would all fail
    assert clock.now >= 1030
    counters = budget_of(api).counters
    assert counters.rate_limited == 1 and counters.writes_sent == 1 and counters.waits == 1


def test_without_a_reset_header_the_hold_lasts_until_the_next_minute(stores):
    clock = FakeClock()
    api = make_api(stores.limits, clock)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.PUT, PUT_RE, callback=answers(429, 200))
        api.update_message("m1", {"text": "final"}, "gpt-bot")
    assert next_window(1000.0) == 1020.0 and clock.now >= 1020.0


def test_the_per_minute_rate_is_respected(stores):
    """Three minutes of many answers in one process: intermediate updates every 50 ms and a
    must-write every second. No 60 s window, wherever it starts, holds more than the limit
    (Stream counts per clock minute, so a sliding bound is what keeps every minute under)."""
    clock = FakeClock()
    budget = make_budget(stores.limits, clock, writes=60)
    taken: list[float] = []
    start, step, must = clock.now, 0, 0
    while clock.now - start < 180:
        if budget.try_update():
            taken.append(clock.now)
        if step % 20 == 0:  # sleeping for a token moves the clock on too
            budget.wait_for(MESSAGES, budget.deadline())
            taken.append(clock.now)
            must += 1
        clock.now += 0.05
        step += 1
    for at in taken:
        in_minute = sum(1 for t in taken if at <= t < at + 60)
        assert in_minute <= 60
    assert must >= 100  # the must-writes kept going however busy the updates were
    assert budget.counters.updates_skipped > 0


class CountingBuckets:
    """The real store, counting the round trips the budget makes to it."""

    def __init__(self, limits: LimitStore) -> None:
        self.limits, self.calls = limits, 0

    def take_token(self, *args: object, **kwargs: object) -> float:
        self.calls += 1
        return self.limits.take_token(*args, **kwargs)  # type: ignore[arg-type]

    def hold_bucket(self, bucket: str, until: float) -> None:
        self.limits.hold_bucket(bucket, until)


def test_a_large_budget_is_taken_in_batches(stores):
    """Two processes writing 100 a second each, under half of 12,000 a minute: tokens come
    from the store 18 at a time."""
    clock = FakeClock()
    counting = CountingBuckets(stores.limits)
    budgets = [WriteBudget(counting, "app", 12_000, 600, clock=clock, sleep=Sleeper(clock))
               for _ in range(2)]
    for _ in range(3000):
        for budget in budgets:
            budget.wait_for(MESSAGES, budget.deadline())
        clock.now += 0.01
    assert counting.calls <= 2 * 3000 / 17  # (a batch's last tokens may expire unused)
    assert budgets[0].counters.waits == budgets[1].counters.waits == 0


def test_batched_tokens_never_overrun_the_limit(stores):
    """Two processes sending as fast as the budget lets them for 130 s: no 60 s window,
    wherever it starts, holds more than 12,000 writes (held tokens included), and at the
    limit a write costs one round trip, as unbatched."""
    clock = FakeClock()
    counting = CountingBuckets(stores.limits)
    budgets = [WriteBudget(counting, "app", 12_000, 600, clock=clock, sleep=Sleeper(clock))
               for _ in range(2)]
    sent: list[float] = []
    while clock.now - 1000.0 < 130:
        for budget in budgets:
            budget.wait_for(MESSAGES, budget.deadline())
            sent.append(clock.now)
        clock.now += 0.001
    ordered = sorted(sent)
    assert max(bisect.bisect_left(ordered, at + 60) - i for i, at in enumerate(ordered)) <= 12_000
    assert len(sent) > 2 * 11_000  # the budget was used, not starved
    assert counting.calls < 2.2 * len(sent)


def test_stream_s_default_budget_takes_one_token_at_a_time(stores):
    clock = FakeClock()
    counting = CountingBuckets(stores.limits)
    budget = WriteBudget(counting, "app", 1000, 10_000, clock=clock, sleep=Sleeper(clock))
    for _ in range(50):
        budget.wait_for(MESSAGES, budget.deadline())
    assert counting.calls == 50


def test_a_429_drops_the_tokens_a_process_holds(stores):
    clock = FakeClock()
    counting = CountingBuckets(stores.limits)
    budget = WriteBudget(counting, "app", 12_000, 600, clock=clock, sleep=Sleeper(clock))
    budget.wait_for(MESSAGES, budget.deadline())  # a batch: 17 held
    budget.rate_limited(MESSAGES, reset=clock.now + 5)
    budget.wait_for(MESSAGES, budget.deadline())
    assert clock.now >= 1005.0  # nothing held was spent into the 429


def test_a_must_write_goes_ahead_after_the_max_wait(stores):
    clock = FakeClock()
    api = make_api(stores.limits, clock)
    budget = budget_of(api)
    stores.limits.hold_bucket(budget.names[EVENTS], clock.now + 3600)  # a stuck hold
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{STREAM_URL}/channels/messaging/general/event", json={})
        api.send_event(("messaging", "general"), {"type": "ai_indicator.clear"}, "gpt-bot")
        assert len(mock.calls) == 1
    assert clock.now == 1000.0 + budget.max_wait  # let Stream decide, never block forever


class BrokenStore:
    def take_token(self, bucket: str, per_minute: int, now: float) -> float:
        raise ConnectionError("store down")

    def hold_bucket(self, bucket: str, until: float) -> None:
        raise ConnectionError("store down")


def test_a_store_outage_does_not_stop_replies(http):
    clock = FakeClock()
    budget = WriteBudget(BrokenStore(), "app", 60, 600, clock=clock, sleep=Sleeper(clock))
    api = StreamApi(StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL), budget=budget)
    assert api.try_show_update("m1", FIELDS, "gpt-bot")
    api.update_message("m1", {"text": "final"}, "gpt-bot")
    assert len(http.calls) == 2 and clock.now == 1000.0


def test_from_config_sizes_the_budget_from_the_config(stores, tmp_path):
    config = make_config(tmp_path, stream_writes_per_min=120, stream_events_per_min=1200)
    assert StreamApi.from_config(config).budget is None  # no store: no budget
    budget = budget_of(StreamApi.from_config(config, limits=stores.limits))
    assert budget.rates == {MESSAGES: 120, EVENTS: 1200, UPDATES: 60}
    assert budget.names[MESSAGES] == f"stream:{API_KEY}:messages"
