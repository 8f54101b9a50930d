"""Quotas and budgets: how many questions, and how many dollars, each scope may use.

Scopes are a user, a channel and the whole app; periods are the day and the month in
GPTBOT_TIMEZONE. Every check is one atomic `LimitStore.charge` (one SQLite transaction or one
Redis script), so processes on several machines share the same counters.

- In the webhook, `admit` counts the question and refuses it when a count limit is reached
  or a budget is already used up.
- Before each model call, `reserve` holds the call's worst-case cost against every budget;
  after it, `settle` replaces the reservation with the real cost. Concurrent answers can
  therefore overshoot a budget by no more than what is in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gptbot.config import CostLimits
from gptbot.core.errors import LimitReached
from gptbot.core.types import CallTag
from gptbot.costs.periods import Periods
from gptbot.store.limits import Charge, LimitStore

MICRO = 1_000_000  # budgets are counted in micro-dollars: integers add up exactly
WARN_AT = 0.8
KEEP_DAYS_S = 3 * 86400  # counters outlive their period a little, for late readers
KEEP_MONTHS_S = 40 * 86400


@dataclass(frozen=True, slots=True)
class Counter:
    """One metric of one scope in one period, e.g. questions of user alice on 2026-12-01."""

    metric: str  # q (questions), usd (micro-dollars), tok (tokens), unpriced (calls)
    scope: str  # "user", "channel" or "app"
    who: str  # the user id or channel cid; "" for the app
    period: str  # "day" or "month"
    label: str  # the date or month, in the operator's time zone

    @property
    def key(self) -> str:
        owner = f"{self.scope}:{self.who}" if self.who else self.scope
        return f"{self.metric}:{owner}:{self.label}"


@dataclass(frozen=True, slots=True)
class Reservation:
    charges: tuple[Charge, ...]  # the micro-dollars held, one charge per usd counter
    tag: CallTag


class Quotas:
    def __init__(
        self,
        limits: CostLimits,
        store: LimitStore,
        periods: Periods,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.store = store
        self.periods = periods
        self.clock = clock

    # --- the webhook ---------------------------------------------------------------------

    def admit(self, user_id: str, cid: str, exempt: bool) -> str | None:
        """Count one question; the refusal to show the asker when a limit says no."""
        now = self.clock()
        tag = CallTag("", user_id, cid, exempt=exempt)
        charges = self._question_charges(tag, now) + self._spent_checks(tag, now)
        refused = self.store.charge(charges, now)
        return self._refusal(refused, tag, now) if refused else None

    def give_back(self, user_id: str, cid: str) -> None:
        """Undo `admit` for a question that could not be queued after all."""
        now = self.clock()
        for counter in self.counters("q", CallTag("", user_id, cid), now):
            self.store.adjust(counter.key, -1, self._expiry(counter, now), now)

    def _question_charges(self, tag: CallTag, now: float) -> list[Charge]:
        limits = {"user": self.limits.user_daily, "channel": self.limits.channel_daily}
        return [
            self._charge(counter, 1, self._limit(limits.get(counter.scope, 0), counter, tag), now)
            for counter in self.counters("q", tag, now)
        ]

    def _spent_checks(self, tag: CallTag, now: float) -> list[Charge]:
        """Adds nothing; refused when a budget is already used up (counter ≥ budget)."""
        return [
            self._charge(counter, 0, max(budget - 1, 1), now)
            for counter, budget in self._budgets(tag, now)
        ]

    # --- each model call -----------------------------------------------------------------

    def reserve(self, tag: CallTag, worst_usd: float) -> Reservation:
        """Hold the call's worst-case cost; LimitReached when a budget cannot take it."""
        now = self.clock()
        amount = _micro(worst_usd)
        budgets = dict(self._budgets(tag, now))
        charges = tuple(
            self._charge(counter, amount, budgets.get(counter, 0), now)
            for counter in self.counters("usd", tag, now)
        )
        refused = self.store.charge(charges, now)
        if refused:
            raise LimitReached(self._refusal(refused, tag, now))
        return Reservation(charges, tag)

    def settle(self, reservation: Reservation, cost_usd: float | None, tokens: int) -> None:
        """Replace the held worst case with the real cost (unpriced: counted as such)."""
        now = self.clock()
        actual = _micro(cost_usd or 0.0)
        for held in reservation.charges:
            self.store.adjust(held.key, actual - held.amount, held.expires_at, now)
        tag = reservation.tag
        extra = [self._charge(c, tokens, 0, now) for c in self.counters("tok", tag, now)]
        if cost_usd is None:
            extra += [self._charge(c, 1, 0, now)
                      for c in self.counters("unpriced", tag, now)]
        self.store.charge(extra, now)

    def warnings(self, tag: CallTag) -> list[str]:
        """Notes for budgets past 80 %, each shown once per period and scope."""
        now = self.clock()
        budgets = self._budgets(tag, now)
        if not budgets:  # the common case: no budget, no round trip after every answer
            return []
        used = self.store.counters([counter.key for counter, _ in budgets], now)
        return [
            _warning(counter, budget, used[counter.key])
            for counter, budget in budgets
            if used[counter.key] >= WARN_AT * budget
            and self.store.mark_once("warn:" + counter.key, self._expiry(counter, now), now)
        ]

    # --- the counters --------------------------------------------------------------------

    def counters(self, metric: str, tag: CallTag, now: float) -> list[Counter]:
        """The metric for the user, the channel and the app, today and this month."""
        day, month = self.periods.day(now), self.periods.month(now)
        owners = [("user", tag.user_id), ("channel", tag.channel), ("app", "")]
        return [
            Counter(metric, scope, who, period, label)
            for scope, who in owners
            for period, label in (("day", day), ("month", month))
        ]

    def _budgets(self, tag: CallTag, now: float) -> list[tuple[Counter, int]]:
        """The usd counters that have a budget for this asker, with the budget."""
        wanted = {
            ("user", "day"): 0 if tag.exempt else self.limits.user_daily_usd,
            ("channel", "day"): 0 if tag.exempt else self.limits.channel_daily_usd,
            ("app", "day"): self.limits.app_daily_usd,
            ("app", "month"): self.limits.app_monthly_usd,
        }
        return [
            (counter, _micro(wanted[counter.scope, counter.period]))
            for counter in self.counters("usd", tag, now)
            if wanted.get((counter.scope, counter.period))
        ]

    def _limit(self, limit: int, counter: Counter, tag: CallTag) -> int:
        if counter.period != "day" or (tag.exempt and counter.scope != "app"):
            return 0
        return limit

    def _charge(self, counter: Counter, amount: int, limit: int, now: float) -> Charge:
        return Charge(counter.key, amount, limit, self._expiry(counter, now))

    def _expiry(self, counter: Counter, now: float) -> float:
        if counter.period == "day":
            return self.periods.day_end(now) + KEEP_DAYS_S
        return self.periods.month_end(now) + KEEP_MONTHS_S

    def read(self, tag: CallTag) -> dict[Counter, int]:
        """Every metric of the user, channel and app, today and this month: one round trip."""
        now = self.clock()
        counters = [c for metric in ("q", "usd", "tok", "unpriced")
                    for c in self.counters(metric, tag, now)]
        values = self.store.counters([c.key for c in counters], now)
        return {c: values[c.key] for c in counters}

    def allowance(self, counter: Counter, tag: CallTag) -> int:
        """What this counter's limit allows this asker (0 = no limit)."""
        if counter.metric == "q":
            limits = {"user": self.limits.user_daily, "channel": self.limits.channel_daily}
            return self._limit(limits.get(counter.scope, 0), counter, tag)
        return dict(self._budgets(tag, self.clock())).get(counter, 0)

    def reset_at(self, period: str, now: float) -> float:
        return self.periods.day_end(now) if period == "day" else self.periods.month_end(now)

    def _refusal(self, refused: Charge, tag: CallTag, now: float) -> str:
        """Which limit, how much it allows, and when it resets."""
        counter = next(c for c in self.counters(refused.key.split(":")[0], tag, now)
                       if c.key == refused.key)
        allowed = refused.limit if counter.metric == "q" else dict(self._budgets(tag, now))[counter]
        when = self.periods.reset_text(self.reset_at(counter.period, now), now)
        return f"{_what_is_used(counter, allowed)}; more at {when}."


def questions(count: int) -> str:
    return f"{count:,} question{'' if count == 1 else 's'}"


def _micro(usd: float) -> int:
    return round(usd * MICRO)


def dollars(micro: int) -> str:
    """$1,234.50, $0.50 — and under a dollar as exact as it is: $0.00045."""
    if micro >= MICRO or micro % 10_000 == 0:
        return f"${micro / MICRO:,.2f}"
    return "$" + f"{micro / MICRO:.6f}".rstrip("0")


def _what_is_used(counter: Counter, allowed: int) -> str:
    if counter.metric == "q":
        if counter.scope == "user":
            return f"You've used your {questions(allowed)} for today"
        return f"This channel has used its {questions(allowed)} for today"
    budget = dollars(allowed)
    period = "today" if counter.period == "day" else "this month"
    subject = {"user": "You've reached your", "channel": "This channel has reached its",
               "app": "The assistant has reached its"}[counter.scope]
    return f"{subject} {budget} budget for {period}"


def _warning(counter: Counter, budget: int, used: int) -> str:
    share = min(100, round(100 * used / budget))
    whose = {"user": f"{counter.who} has", "channel": "this channel has",
             "app": "the assistant has"}[counter.scope]
    period = "today's" if counter.period == "day" else "this month's"
    return f"Note: {whose} used {share}% of {period} {dollars(budget)} budget."
