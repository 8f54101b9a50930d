"""Quotas and budgets on both store backends, with a fake clock: who is refused, with what
words, when counters reset, and how reservations settle."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gptbot.config import CostLimits
from gptbot.core.errors import LimitReached
from gptbot.core.types import CallTag
from gptbot.costs.periods import Periods
from gptbot.costs.quotas import Quotas

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
ALICE = CallTag("gpt-1", "alice", "messaging:general")


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def quotas(stores, clock, zone: str = "UTC", **limits) -> Quotas:
    chosen = CostLimits(**{"user_daily": 0, **limits})
    return Quotas(chosen, stores.limits, Periods(ZoneInfo(zone)), clock)


def test_the_51st_question_of_a_day_is_refused_with_the_limit_and_reset(stores, clock):
    q = quotas(stores, clock, user_daily=50)
    assert [q.admit("alice", "messaging:general", False) for _ in range(50)] == [None] * 50
    assert q.admit("alice", "messaging:general", False) == (
        "You've used your 50 questions for today; more at 00:00 UTC."
    )
    assert q.admit("bob", "messaging:general", False) is None  # per user


def test_a_refused_question_is_not_counted(stores, clock):
    q = quotas(stores, clock, user_daily=1)
    q.admit("alice", "messaging:a", False)
    for _ in range(3):
        q.admit("alice", "messaging:a", False)
    day = q.counters("q", ALICE, clock.now)[0]
    assert stores.limits.counters([day.key], clock.now)[day.key] == 1


def test_channel_limit_counts_everyone_in_the_channel(stores, clock):
    q = quotas(stores, clock, channel_daily=2)
    assert q.admit("alice", "messaging:a", False) is None
    assert q.admit("bob", "messaging:a", False) is None
    assert q.admit("carol", "messaging:a", False) == (
        "This channel has used its 2 questions for today; more at 00:00 UTC."
    )
    assert q.admit("carol", "messaging:b", False) is None


def test_admins_skip_user_and_channel_limits_but_not_the_app_budget(stores, clock):
    q = quotas(stores, clock, user_daily=1, channel_daily=1, app_daily_usd=1.0)
    assert q.admit("boss", "messaging:a", True) is None
    assert q.admit("boss", "messaging:a", True) is None
    boss = CallTag("gpt-2", "boss", "messaging:a", exempt=True)
    q.settle(q.reserve(boss, 0.5), 1.0, tokens=10)  # the app's $1.00 is now spent
    assert q.admit("boss", "messaging:a", True) == (
        "The assistant has reached its $1.00 budget for today; more at 00:00 UTC."
    )


def test_counts_reset_at_midnight_in_the_operators_time_zone(stores, clock):
    clock.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC).timestamp()  # 23:30 in Berlin
    q = quotas(stores, clock, "Europe/Berlin", user_daily=1)
    assert q.admit("alice", "messaging:a", False) is None
    refusal = q.admit("alice", "messaging:a", False)
    assert refusal == "You've used your 1 question for today; more at 00:00 (Europe/Berlin)."
    clock.now = datetime(2026, 12, 1, 22, 59, 59, tzinfo=UTC).timestamp()
    assert q.admit("alice", "messaging:a", False) is not None  # still the same Berlin day
    clock.now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC).timestamp()  # Berlin midnight
    assert q.admit("alice", "messaging:a", False) is None


def test_a_reservation_holds_the_worst_case_and_settles_to_the_real_cost(stores, clock):
    q = quotas(stores, clock, user_daily_usd=1.0)
    held = q.reserve(ALICE, 0.75)
    with pytest.raises(LimitReached) as refused:  # 0.75 + 0.30 would pass $1.00
        q.reserve(ALICE, 0.30)
    assert refused.value.user_message == (
        "You've reached your $1.00 budget for today; more at 00:00 UTC."
    )
    q.settle(held, 0.10, tokens=1234)
    second = q.reserve(ALICE, 0.30)  # 0.10 spent + 0.30 held fits
    q.settle(second, 0.20, tokens=66)
    spent = {c.period: v for c, v in q.read(ALICE).items()
             if c.metric == "usd" and c.scope == "user"}
    tokens = {c.period: v for c, v in q.read(ALICE).items()
              if c.metric == "tok" and c.scope == "app"}
    assert spent == {"day": 300_000, "month": 300_000}  # micro-dollars: $0.30
    assert tokens == {"day": 1300, "month": 1300}


def test_a_used_up_budget_refuses_at_the_webhook(stores, clock):
    q = quotas(stores, clock, channel_daily_usd=0.5)
    q.settle(q.reserve(ALICE, 0.5), 0.5, tokens=1)
    assert q.admit("bob", "messaging:general", False) == (
        "This channel has reached its $0.50 budget for today; more at 00:00 UTC."
    )


def test_monthly_budget_resets_on_the_first(stores, clock):
    clock.now = datetime(2026, 12, 15, 12, 0, tzinfo=UTC).timestamp()
    q = quotas(stores, clock, app_monthly_usd=2.0)
    q.settle(q.reserve(ALICE, 2.0), 2.0, tokens=1)
    assert q.admit("alice", "messaging:a", False) == (
        "The assistant has reached its $2.00 budget for this month; more at 00:00 on Jan 1 UTC."
    )
    clock.now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    assert q.admit("alice", "messaging:a", False).endswith("more at 00:00 UTC.")  # tonight
    clock.now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC).timestamp()
    assert q.admit("alice", "messaging:a", False) is None


def test_unpriced_calls_are_counted_not_priced_at_zero(stores, clock):
    q = quotas(stores, clock, user_daily_usd=1.0)
    q.settle(q.reserve(ALICE, 0.0), None, tokens=500)
    values = {(c.metric, c.scope, c.period): v for c, v in q.read(ALICE).items()}
    assert values["unpriced", "user", "day"] == 1
    assert values["usd", "user", "day"] == 0
    assert values["tok", "channel", "month"] == 500


def test_the_80_percent_note_comes_once_per_day_and_scope(stores, clock):
    q = quotas(stores, clock, channel_daily_usd=5.0)
    q.settle(q.reserve(ALICE, 4.0), 3.9, tokens=1)
    assert q.warnings(ALICE) == []  # 78 %
    q.settle(q.reserve(ALICE, 0.5), 0.2, tokens=1)  # 82 %
    assert q.warnings(ALICE) == ["Note: this channel has used 82% of today's $5.00 budget."]
    assert q.warnings(ALICE) == []
    clock.now += 86400
    q.settle(q.reserve(ALICE, 4.5), 4.5, tokens=1)
    assert q.warnings(ALICE) == ["Note: this channel has used 90% of today's $5.00 budget."]


def test_concurrent_reservations_never_overshoot_by_more_than_in_flight(stores, clock):
    import threading

    q = quotas(stores, clock, app_daily_usd=1.0)
    held, refused = [], []

    def ask() -> None:
        try:
            held.append(q.reserve(ALICE, 0.1))
        except LimitReached:
            refused.append(1)

    threads = [threading.Thread(target=ask) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(held), len(refused)) == (10, 20)
