"""Every model call leaves one ledger row with the provider's own usage and its exact cost,
whatever happens to the call: answered, stopped, failed, refused, or taken over by a fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gptbot.config import CostLimits
from gptbot.core.errors import LimitReached
from gptbot.core.events import Finish, StreamEvent, TextDelta, Usage
from gptbot.core.types import CallTag, ChatMessage, ChatRequest
from gptbot.costs.accountant import Accountant
from gptbot.costs.periods import Periods
from gptbot.costs.prices import PriceTable
from gptbot.costs.quotas import Quotas
from gptbot.llm.metering import MeteredProvider
from gptbot.llm.providers.fallback import Candidate, FallbackProvider
from tests.support.fakes import Scripted

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
TAG = CallTag("gpt-m1", "alice", "messaging:general")
QUESTION = (ChatMessage("system", "Be brief."), ChatMessage("user", "What is Stream?"))




def accountant(stores, **limits) -> Accountant:
    quotas = Quotas(CostLimits(user_daily=0, **limits), stores.limits, Periods(ZoneInfo("UTC")),
                    lambda: NOW)
    return Accountant(PriceTable.load(), quotas, stores.ledger, max_tokens=1000,
                      clock=lambda: NOW)


def metered(inner, observer) -> MeteredProvider:
    return MeteredProvider(inner, observer, wall=lambda: NOW)


def run(provider, request: ChatRequest, take: int | None = None) -> list[StreamEvent]:
    events = provider.stream(request)
    seen = []
    for event in events:
        seen.append(event)
        if take is not None and len(seen) == take:
            events.close()  # the reader stops, as a Stop does
            break
    return seen


def rows(stores):
    return stores.ledger.rows(0, NOW + 1)


def test_the_row_holds_the_reported_usage_and_its_exact_cost(stores):
    usage = Usage(1000, 200, cached_input_tokens=400, reasoning_tokens=0)
    provider = metered(Scripted("openai", [TextDelta("Hi"), usage, Finish("stop")]),
                               accountant(stores))
    run(provider, ChatRequest("gpt-4o-mini", QUESTION, tag=TAG))
    [row] = rows(stores)
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens) == (1000, 400, 200)
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens
    assert row.cost_usd == pytest.approx((600 * 0.15 + 400 * 0.075 + 200 * 0.60) / 1e6)
    assert (row.purpose, row.outcome, row.estimated) == ("answer", "ok", False)
    assert (row.reply_id, row.user_id, row.channel) == ("gpt-m1", "alice", "messaging:general")


def test_an_unpriced_model_is_recorded_as_unpriced_never_as_zero(stores):
    provider = metered(Scripted("openai", [TextDelta("x"), Usage(10, 5)]),
                               accountant(stores))
    run(provider, ChatRequest("my-private-model", QUESTION, tag=TAG))
    [row] = rows(stores)
    assert row.cost_usd is None
    assert (row.input_tokens, row.output_tokens) == (10, 5)


def test_local_and_ollama_cost_nothing(stores):
    provider = metered(Scripted("ollama", [TextDelta("x"), Usage(10, 5)]),
                               accountant(stores))
    run(provider, ChatRequest("llama3.2", QUESTION, tag=TAG))
    assert rows(stores)[0].cost_usd == 0.0


def test_a_stream_without_usage_is_estimated_and_marked(stores):
    provider = metered(Scripted("openai", [TextDelta("twelve chars")]),
                               accountant(stores))
    run(provider, ChatRequest("gpt-4o-mini", QUESTION, tag=TAG))
    [row] = rows(stores)
    assert row.estimated and row.input_tokens > 0 and row.output_tokens == 4  # 12 chars / 3


def test_a_stopped_call_is_recorded_as_stopped(stores):
    events = [TextDelta("a"), TextDelta("b"), TextDelta("c"), Usage(7, 3)]
    provider = metered(Scripted("openai", events), accountant(stores))
    run(provider, ChatRequest("gpt-4o-mini", QUESTION, tag=TAG), take=1)
    [row] = rows(stores)
    assert row.outcome == "stopped" and row.estimated


def test_a_budget_refuses_the_call_before_it_starts_and_says_so(stores):
    provider = metered(Scripted("openai", [TextDelta("x")]),
                               accountant(stores, user_daily_usd=0.0001))
    with pytest.raises(LimitReached):  # 1000 max tokens at $0.60/M is more than $0.0001
        run(provider, ChatRequest("gpt-4o-mini", QUESTION, tag=TAG))
    [row] = rows(stores)
    assert (row.outcome, row.cost_usd, row.output_tokens) == ("refused_limit", None, 0)


def test_each_fallback_attempt_is_its_own_row(stores):
    meter = accountant(stores)
    primary = metered(Scripted("openai", [], fail=True), meter)
    backup = metered(Scripted("anthropic", [TextDelta("ok"), Usage(20, 2)]), meter)
    chain = FallbackProvider([Candidate(primary), Candidate(backup, "claude-3-5-haiku-latest")])
    run(chain, ChatRequest("gpt-4o-mini", QUESTION, tag=TAG))
    failed, answered = rows(stores)
    assert (failed.provider, failed.outcome) == ("openai", "error:ProviderError")
    assert (answered.provider, answered.model, answered.purpose, answered.outcome) == (
        "anthropic", "claude-3-5-haiku-latest", "fallback", "ok")


def test_a_request_carrying_tool_results_is_a_tool_round(stores):
    provider = metered(Scripted("openai", [TextDelta("x"), Usage(5, 1)]),
                               accountant(stores))
    tool_result = ChatMessage("tool", "42", tool_call_id="c1", name="answer")
    run(provider, ChatRequest("gpt-4o-mini", (*QUESTION, tool_result), tag=TAG))
    assert rows(stores)[0].purpose == "tool_round"


def test_settling_replaces_the_reservation_with_the_real_cost(stores):
    meter = accountant(stores, user_daily_usd=1.0)
    provider = metered(Scripted("openai", [TextDelta("x"), Usage(1000, 100)]), meter)
    run(provider, ChatRequest("gpt-4o-mini", QUESTION, max_tokens=4000, tag=TAG))
    spent = {(c.scope, c.period): v for c, v in meter.quotas.read(TAG).items()
             if c.metric == "usd"}
    assert spent[("user", "day")] == round(1000 * 0.15 + 100 * 0.60)  # micro-dollars: 210
