"""The ledger bills what the provider bills: every captured stream that reports usage, played
through a metered provider, leaves a ledger row with exactly that usage, cached tokens
included, and the cost of the same answer non-streamed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gptbot.config import CostLimits
from gptbot.core.events import StreamEvent, Usage
from gptbot.core.types import CallTag, ChatMessage, ChatRequest
from gptbot.costs.accountant import Accountant
from gptbot.costs.periods import Periods
from gptbot.costs.prices import PriceTable, cost_usd
from gptbot.costs.quotas import Quotas
from gptbot.llm.metering import MeteredProvider
from tests.llm.test_usage import EXPECTED, FORMATS, _kind
from tests.support import wire_cases as wire

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
# A priced model of each capture's vendor, so each row's cost can be checked too.
PRICED = {"chat": ("openai", "gpt-4o-mini"), "anthropic": ("anthropic", "claude-3-5-haiku"),
          "gemini": ("gemini", "gemini-2.5-flash"), "ollama": ("ollama", "llama3.2")}
REPORTING = sorted(name for name, counts in EXPECTED.items() if counts is not None)


class Replay:
    def __init__(self, name: str, events: list[StreamEvent]) -> None:
        self.name = name
        self.events = events

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        yield from self.events


def decoded_events(name: str) -> tuple[str, list[StreamEvent]]:
    body, sidecar = wire.capture_file(name)
    kind = _kind(sidecar)
    frame, map_payload, _ = FORMATS[kind]
    return kind, [event for payload in frame([body]) for event in map_payload(payload)]


@pytest.mark.parametrize("name", REPORTING)
def test_the_ledger_row_is_the_reported_usage(name, tmp_path):
    from gptbot.store.sqlite import open_sqlite

    kind, events = decoded_events(name)
    provider, model = PRICED[kind]
    stores = open_sqlite(tmp_path / "s.db")
    prices = PriceTable.load()
    quotas = Quotas(CostLimits(user_daily=0), stores.limits, Periods(ZoneInfo("UTC")), lambda: NOW)
    meter = Accountant(prices, quotas, stores.ledger, 1000, clock=lambda: NOW)
    metered = MeteredProvider(Replay(provider, events), meter, wall=lambda: NOW)
    request = ChatRequest(model, (ChatMessage("user", "hi"),), tag=CallTag("r", "u", "c:1"))
    list(metered.stream(request))
    [row] = stores.ledger.rows(0, NOW + 1)
    stores.close()
    expected = tuple(n or 0 for n in EXPECTED[name])  # type: ignore[union-attr]
    assert (row.input_tokens, row.cached_input_tokens, row.cache_write_tokens,
            row.output_tokens, row.reasoning_tokens) == expected
    assert not row.estimated
    inp, cached, written, out, reasoning = expected
    price = prices.price_for(provider, model)
    assert price is not None
    usage = Usage(inp, out, cached_input_tokens=cached, cache_write_tokens=written,
                  reasoning_tokens=reasoning)
    assert row.cost_usd == pytest.approx(cost_usd(price, usage))
