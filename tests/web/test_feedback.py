"""👍 / 👎 on the bot's replies through the signed event webhook (Stream's reaction.new and
reaction.deleted): votes kept against the reply with its model and cost, other reactions
and other messages ignored, a vote taken back, `/gpt usage all`, forget-me."""

from __future__ import annotations

import pytest

from gptbot.config import EVENTS_PATH
from gptbot.conversation.prompts import find_persona
from gptbot.services import build_services
from gptbot.store.feedback import DOWN, UP
from gptbot.web.app import create_app
from tests.support.common import encode, make_config, signed_headers
from tests.support.fakes import FakeProvider
from tests.web.test_subcommands import post, run_queued

ALL = (0.0, 2.0**40)


@pytest.fixture
def bot(tmp_path, http):
    config = make_config(tmp_path, admins=("bob",))
    services = build_services(config, provider=FakeProvider())
    client = create_app(config, services).test_client()
    post(client, "What is Stream?", message_id="m1")
    run_queued(services)
    yield client, services
    services.close()


def react(client, kind: str, reaction: str, message_id: str = "gpt-m1", user: str = "carol",
          author: str = "gpt-bot") -> str:
    event = {
        "type": kind, "cid": "messaging:general",
        "message": {"id": message_id, "user": {"id": author}, "text": "answer 1"},
        "reaction": {"type": reaction, "user_id": user, "message_id": message_id},
        "user": {"id": user},
    }
    body = encode(event)
    response = client.post(EVENTS_PATH, data=body, headers=signed_headers(body))
    assert response.status_code == 200
    return response.get_json()["status"]


def test_a_thumbs_up_is_kept_with_the_replys_model_cost_and_persona(bot):
    client, services = bot
    persona = find_persona("support")
    assert persona is not None
    services.prompts.set_persona("messaging:general", persona)
    assert react(client, "reaction.new", "like") == "voted"
    [vote] = services.stores.feedback.votes(*ALL)
    record = services.stores.audit.audit_record("gpt-m1")
    assert record is not None and record.cost_usd is not None
    assert (vote.reply_id, vote.user_id, vote.vote, vote.channel) == \
        ("gpt-m1", "carol", UP, "messaging:general")
    assert (vote.model, vote.cost_usd, vote.persona) == \
        (record.model, record.cost_usd, "support")


def test_other_reactions_and_other_messages_are_no_feedback(bot):
    client, services = bot
    assert react(client, "reaction.new", "love") == "ignored"
    assert react(client, "reaction.new", "like", message_id="m1", author="alice") == "ignored"
    assert react(client, "reaction.new", "like", message_id="gpt-x", author="another-bot") \
        == "ignored"
    assert services.stores.feedback.votes(*ALL) == []


def test_a_vote_on_a_follow_up_part_counts_for_its_reply_and_can_be_taken_back(bot):
    client, services = bot
    assert react(client, "reaction.new", "thumbsdown", message_id="gpt-m1-2") == "voted"
    assert [(v.reply_id, v.vote) for v in services.stores.feedback.votes(*ALL)] == \
        [("gpt-m1", DOWN)]
    assert react(client, "reaction.deleted", "like", message_id="gpt-m1-2") == "ignored"
    assert react(client, "reaction.deleted", "thumbsdown", message_id="gpt-m1-2") == "withdrawn"
    assert services.stores.feedback.votes(*ALL) == []


def test_usage_all_shows_the_share_of_thumbs_up_and_forget_me_takes_the_votes(bot):
    client, services = bot
    react(client, "reaction.new", "like", user="carol")
    react(client, "reaction.new", "-1", user="dave")
    react(client, "reaction.new", "+1", user="alice")
    text = post(client, "usage all", user="bob")["text"]
    assert text.endswith("\nFeedback this month: 2 👍, 1 👎 (67% 👍).")
    post(client, "forget-me", user="alice")
    assert sorted(v.user_id for v in services.stores.feedback.votes(*ALL)) == ["carol", "dave"]
