"""The accountant: prices each model call, holds it against the budgets, writes the ledger.

It is the observer of every metered provider (gptbot.llm.metering): before a call it reserves
the worst-case cost, after it settles the real cost from the provider's reported usage and
writes one ledger row, whatever the call's outcome. The spend also goes to the metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from gptbot.core.errors import LimitReached
from gptbot.core.events import Usage
from gptbot.core.types import CallTag, ChatRequest
from gptbot.costs.prices import Price, PriceTable, cost_usd, worst_case_cost
from gptbot.costs.quotas import Quotas, Reservation
from gptbot.llm.metering import CallRecord
from gptbot.llm.tokens import messages_tokens
from gptbot.store.ledger import LedgerRow, LedgerStore
from gptbot.telemetry import Telemetry
from gptbot.voice.usage import VoiceUsage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ticket:
    price: Price | None  # None: the model is unpriced
    reservation: Reservation | None  # None: a call for nobody in particular (no tag)


class Accountant:
    def __init__(
        self,
        prices: PriceTable,
        quotas: Quotas,
        ledger: LedgerStore,
        max_tokens: int,
        clock: Callable[[], float] = time.time,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.prices = prices
        self.quotas = quotas
        self.ledger = ledger
        self.max_tokens = max_tokens
        self.clock = clock
        self.telemetry = telemetry or Telemetry.off()

    def before_call(self, provider: str, request: ChatRequest) -> Ticket:
        price = self.prices.price_for(provider, request.model)
        if request.tag is None:
            return Ticket(price, None)
        try:
            reservation = self.quotas.reserve(request.tag, self._worst_case(price, request))
        except LimitReached:
            self._record(_refused(provider, request, self.clock()), None)
            raise
        return Ticket(price, reservation)

    def after_call(self, ticket: object, record: CallRecord) -> None:
        assert isinstance(ticket, Ticket)
        cost = cost_usd(ticket.price, record.usage) if ticket.price else None
        self.telemetry.spent(cost or 0.0)  # spent, whether or not the books below work out
        try:
            if ticket.reservation:
                self.quotas.settle(ticket.reservation, cost, _tokens(record.usage))
            self._record(record, cost)
        except Exception:  # the answer is in the channel already; accounting must not undo it
            log.exception("could not account for a %s call to %s", record.provider, record.model)

    def record_cached(self, tag: CallTag, provider: str, model: str) -> None:
        """An answer served from the response cache: a ledger row that costs nothing."""
        row = CallRecord(provider, model, tag, self.clock(), Usage(0, 0), False, 0.0, 0.0,
                         "cached")
        self._record(row, 0.0)

    def record_handoff(self, tag: CallTag) -> None:
        """A conversation handed to a person: a ledger row with no call, so reports count it."""
        tag = replace(tag, purpose="handoff")
        row = CallRecord("gptbot", "handoff", tag, self.clock(), Usage(0, 0), False, 0.0, 0.0,
                         "handoff")
        self._record(row, 0.0)

    def record_voice(self, tag: CallTag, usage: VoiceUsage) -> None:
        """One transcription or spoken reply: a ledger row (its audio seconds in `total_s`)
        and its cost on the budgets. Charged after the fact, as the audio is already heard
        or spoken: a budget it pushes over refuses the next call, not this one."""
        tag = replace(tag, purpose=usage.purpose)
        self.telemetry.spent(usage.cost_usd or 0.0)
        try:
            self.quotas.settle(self.quotas.reserve(tag, 0.0), usage.cost_usd, 0)
        except LimitReached:
            log.info("%s for %s came with a budget already spent", usage.purpose, tag.reply_id)
        except Exception:  # the answer goes on; the books are secondary
            log.exception("could not charge %s for %s", usage.purpose, tag.reply_id)
        row = CallRecord(usage.engine, usage.model, tag, self.clock(), Usage(0, 0), False, None,
                         usage.seconds, "ok")
        self._record(row, usage.cost_usd)

    def _worst_case(self, price: Price | None, request: ChatRequest) -> float:
        if price is None:
            return 0.0
        prompt = messages_tokens(request.messages)
        return worst_case_cost(price, prompt, request.max_tokens or self.max_tokens)

    def _record(self, record: CallRecord, cost: float | None) -> None:
        if record.tag is not None:
            self.ledger.record(ledger_row(record, cost))


def ledger_row(record: CallRecord, cost: float | None) -> LedgerRow:
    tag, usage = record.tag, record.usage
    assert tag is not None
    purpose = "cached" if record.outcome == "cached" else tag.purpose
    return LedgerRow(
        record.started_at, tag.reply_id, tag.user_id, tag.channel, purpose,
        record.provider, record.model,
        usage.input_tokens or 0, usage.cached_input_tokens or 0, usage.cache_write_tokens or 0,
        usage.output_tokens or 0, usage.reasoning_tokens or 0,
        record.estimated, cost, record.first_token_s, record.total_s, record.outcome,
    )


def _refused(provider: str, request: ChatRequest, now: float) -> CallRecord:
    return CallRecord(provider, request.model, request.tag, now, Usage(0, 0), False, None, 0.0,
                      "refused_limit")


def _tokens(usage: Usage) -> int:
    return (usage.input_tokens or 0) + (usage.output_tokens or 0)
