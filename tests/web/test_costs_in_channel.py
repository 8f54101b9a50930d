"""What a channel member sees of quotas and budgets: the refusal, `/gpt usage`, the 80 % note,
and the response cache — through the signed webhook and the job, with a provider that
reports usage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gptbot.config import CostLimits
from gptbot.core.events import Finish, StreamEvent, TextDelta, Usage
from gptbot.core.types import ChatRequest
from gptbot.services import build_services
from gptbot.web.app import create_app
from gptbot.web.subcommands import Subcommand, parse
from tests.support.common import make_config
from tests.support.fakes import final_texts
from tests.web.test_subcommands import post, run_queued


class Billed:
    """Answers every question with the same words and reports 1,000 in / 500 out tokens."""

    name = "openai"

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        yield TextDelta("Go to Settings, then Billing.")
        yield Usage(1000, 500)
        yield Finish("stop")


def bot(tmp_path, **settings):
    limits = CostLimits(**{"user_daily": 50, **settings.pop("limits", {})})
    config = replace(make_config(tmp_path, admins=("bob",), **settings), limits=limits)
    provider = Billed()
    services = build_services(config, provider=provider)
    return create_app(config, services).test_client(), services, provider


@pytest.fixture
def default_bot(tmp_path, http):
    client, services, provider = bot(tmp_path)
    yield client, services, provider
    services.close()


@pytest.mark.parametrize(("args", "scope"), [
    ("usage", "user"), ("usage me", "user"), ("usage channel", "channel"), ("usage all", "app"),
])
def test_usage_parses_its_scopes(args, scope):
    assert parse(args) == Subcommand("usage", scope)


def test_usage_of_a_whole_channel_is_for_admins(default_bot):
    client, _, _ = default_bot
    refused = post(client, "usage channel", user="alice")
    assert refused["type"] == "ephemeral" and "Only admins" in refused["text"]
    allowed = post(client, "usage all", user="bob")
    assert allowed["text"].startswith("**The assistant's usage**")


def test_the_51st_question_is_refused_without_a_job(default_bot):
    client, services, provider = default_bot
    for n in range(50):
        assert post(client, f"question {n}")["args"] == f"question {n}"  # stays as typed
    refusal = post(client, "question 51")
    assert refusal == {"type": "ephemeral",
                       "text": "You've used your 50 questions for today; more at 00:00 UTC."}
    assert services.queue.pending() == 50
    assert provider.requests == []


def test_usage_shows_questions_tokens_cost_and_what_is_left(tmp_path, http):
    client, services, _ = bot(tmp_path, limits={"user_daily_usd": 1.0})
    try:
        post(client, "How do I change my billing address?")
        run_queued(services)
        text = post(client, "usage")["text"]
    finally:
        services.close()
    # gpt-4o-mini: 1,000 x $0.15/M + 500 x $0.60/M = $0.00045
    assert "Today: 1 question (49 of 50 left), 1,500 tokens, $0.00045 (budget $1.00, " \
           "$0.99955 left)" in text
    assert "This month: 1 question, 1,500 tokens, $0.00045" in text


def test_an_unpriced_model_is_named_in_usage(tmp_path, http):
    client, services, _ = bot(tmp_path, model="my-private-model")
    try:
        text = post(client, "usage")["text"]
    finally:
        services.close()
    assert "unpriced: openai:my-private-model" in text


def test_the_80_percent_note_rides_on_one_answer(tmp_path, http):
    # Each answer costs $0.00045: a $0.001 daily budget is at 45 %, then 90 %, then 135 %.
    client, services, _ = bot(tmp_path, max_tokens=100, limits={"channel_daily_usd": 0.001})
    try:
        for user in ("alice", "carol", "dave"):
            post(client, f"a question from {user}", user=user)
            run_queued(services)
    finally:
        services.close()
    first, second, third = final_texts(http)
    assert "Note:" not in first
    assert second.endswith("_Note: this channel has used 90% of today's $0.001 budget._")
    assert "Note:" not in third  # once per day and scope


def test_a_repeated_first_question_comes_from_the_cache(tmp_path, http):
    client, services, provider = bot(tmp_path, cache_ttl=3600)
    try:
        post(client, "What is Stream Chat?")
        run_queued(services)
        post(client, "what is stream chat", user="carol", parent_id="root-1")
        run_queued(services)
        rows = services.stores.ledger.rows(0, 2**40)
    finally:
        services.close()
    assert len(provider.requests) == 1
    assert final_texts(http) == ["Go to Settings, then Billing."] * 2
    assert [(r.purpose, r.outcome, r.cost_usd) for r in rows][1] == ("cached", "cached", 0.0)
