"""`/gpt help|reset|stop|system|persona|summarize` through the signed webhook."""

from __future__ import annotations

import json
import time

import pytest
import responses

from gptbot.conversation.prompts import find_persona
from gptbot.services import build_services
from gptbot.web.app import create_app
from gptbot.web.subcommands import SUMMARIZE_DEFAULT, SUMMARIZE_MAX, Subcommand, parse
from tests.support.common import STREAM_URL, command_payload, encode, make_config, signed_headers
from tests.support.fakes import FakeProvider, dialogue, final_texts

QUERY = f"{STREAM_URL}/channels/messaging/general/query"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("help", Subcommand("help")),
        ("HELP", Subcommand("help")),
        ("reset", Subcommand("reset")),
        ("stop", Subcommand("stop")),
        ("summarize", Subcommand("summarize", limit=SUMMARIZE_DEFAULT)),
        ("summarize 20", Subcommand("summarize", limit=20)),
        ("summarise 0", Subcommand("summarize", limit=1)),
        ("summarize 100000", Subcommand("summarize", limit=SUMMARIZE_MAX)),
        ("system Be terse.  Always.", Subcommand("system", "Be terse.  Always.")),
        ("system", Subcommand("system")),
        ("persona reviewer", Subcommand("persona", "reviewer")),
        ("persona", Subcommand("persona")),
        ("help me write a poem", None),
        ("stop the war", None),
        ("summarize this thread for me", None),
        ("persona of a pirate, what would you say?", None),
        ("What is Stream?", None),
    ],
)
def test_the_first_word_picks_a_subcommand_only_in_its_exact_shape(args, expected):
    assert parse(args) == expected


@pytest.fixture
def bot(tmp_path, http):
    provider = FakeProvider()
    config = make_config(tmp_path, admins=("bob",))
    services = build_services(config, provider=provider)
    yield create_app(config, services).test_client(), services, provider
    services.close()


def post(client, args, *, user="alice", role="user", message_id=None, parent_id=None):
    payload = command_payload(
        args, message_id=message_id or f"m-{time.monotonic_ns()}", parent_id=parent_id
    )
    payload["user"] = {"id": user, "name": user.title(), "role": role}
    body = encode(payload)
    # Stream allows 1 s. What keeps the answer far inside that is that the model never runs
    # in the request (the job is queued); the latency itself is bench/bench_ack.py's to
    # measure, not a wall-clock bound that a loaded machine can break.
    provider = client.application.extensions["gptbot"].provider
    asked = len(provider.requests)
    response = client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body))
    assert len(provider.requests) == asked, "the webhook called the model inside the request"
    assert response.status_code == 200
    return response.get_json()["message"]


def run_queued(services) -> None:
    while (task := services.queue.huey.dequeue()) is not None:
        services.queue.huey.execute(task)


def test_help_is_ephemeral_and_describes_everything(bot):
    client, services, _ = bot
    message = post(client, "help")
    assert message["type"] == "ephemeral"
    for text in (
        "/gpt <question>",
        "/gpt summarize [N]",
        "/gpt stop",
        "/gpt reset",
        "/gpt persona",
        "/gpt system",
        "reviewer",
        "the default system prompt",
        "0 earlier questions remembered",
    ):
        assert text in message["text"]
    assert services.queue.pending() == 0


def test_help_counts_what_this_conversation_remembers(bot):
    client, services, _ = bot
    post(client, "first question")
    run_queued(services)
    assert "1 earlier question remembered" in post(client, "help")["text"]
    assert "0 earlier questions" in post(client, "help", parent_id="root-1")["text"]


def test_questions_that_start_with_a_subcommand_word_are_still_questions(bot):
    client, services, _ = bot
    message = post(client, "help me write a poem")
    assert message.get("type", "regular") == "regular"
    assert services.queue.pending() == 1


def test_reset_is_ephemeral(bot):
    client, services, provider = bot
    post(client, "remember this")
    run_queued(services)
    message = post(client, "reset")
    assert message["type"] == "ephemeral" and "forgot" in message["text"]
    post(client, "and now?")
    run_queued(services)
    assert dialogue(provider.questions[-1]) == [("user", "and now?")]


def test_system_prompt_is_refused_to_ordinary_users(bot):
    client, services, _ = bot
    message = post(client, "system Talk like a pirate.")
    assert message["type"] == "ephemeral"
    assert "Only admins" in message["text"]
    assert services.stores.settings.channel_settings("messaging:general") == {}
    assert services.queue.pending() == 0


@pytest.mark.parametrize(("user", "role"), [("carol", "admin"), ("bob", "user")])
def test_admins_by_role_or_by_setting_set_the_system_prompt(bot, user, role):
    client, services, provider = bot
    message = post(client, "system Talk like a pirate.", user=user, role=role)
    assert message["type"] == "ephemeral" and "set" in message["text"]
    post(client, "Hello?")
    run_queued(services)
    assert provider.questions[-1].messages[0].content == "Talk like a pirate."
    shown = post(client, "system", user=user, role=role)["text"]
    assert "own system prompt" in shown and "Talk like a pirate." in shown
    post(client, "system reset", user=user, role=role)
    assert services.prompts.for_channel("messaging:general") == services.config.system_prompt


def test_anyone_may_list_personas_but_only_admins_switch(bot):
    client, services, provider = bot
    listing = post(client, "persona")["text"]
    assert "`reviewer`: code reviewer" in listing and "default system prompt" in listing
    assert "Only admins" in post(client, "persona reviewer")["text"]
    assert "code reviewer" in post(client, "persona reviewer", role="admin")["text"]
    post(client, "Look at this diff")
    run_queued(services)
    assert provider.questions[-1].messages[0].content == find_persona("reviewer").prompt
    assert "no persona 'pirate'" in post(client, "persona pirate", role="admin")["text"]
    post(client, "persona default", role="admin")
    assert services.stores.settings.channel_settings("messaging:general") == {}


def test_prompt_settings_apply_to_the_channels_threads_too(bot):
    client, services, provider = bot
    post(client, "persona analyst", role="admin")
    post(client, "In a thread?", parent_id="root-1")
    run_queued(services)
    assert provider.questions[-1].messages[0].content == find_persona("analyst").prompt


CHANNEL = [
    {
        "id": "1",
        "type": "regular",
        "text": "Shall we ship on Friday?",
        "user": {"id": "alice", "name": "Alice"},
        "created_at": "2025-01-01T10:00:00Z",
    },
    {
        "id": "2",
        "type": "regular",
        "text": "Only after the tests pass.",
        "user": {"id": "bob", "name": "Bob"},
        "created_at": "2025-01-01T10:01:00Z",
    },
    {
        "id": "3",
        "type": "regular",
        "text": "",
        "ai_generated": True,
        "generating": True,
        "user": {"id": "gpt-bot"},
        "created_at": "2025-01-01T10:02:00Z",
    },
]


def test_summarize_is_a_background_job_that_reads_the_channel(bot, http):
    client, services, provider = bot
    http.add(responses.POST, QUERY, json={"channel": {}, "messages": CHANNEL})
    message = post(client, "summarize 20", message_id="sum-1")
    assert message["text"] == "/gpt summarize 20"  # stays visible, like a question
    assert services.queue.pending() == 1
    run_queued(services)
    query = next(c for c in http.calls if c.request.url.startswith(QUERY))
    assert json.loads(query.request.body)["messages"] == {"limit": 20}
    sent = provider.questions[0].messages[-1].content
    assert sent.endswith("Alice: Shall we ship on Friday?\nBob: Only after the tests pass.")
    assert final_texts(http) == ["answer 1"]
    [turn] = services.stores.conversations.load_conversation("messaging:general").turns
    assert (turn.question, turn.answer, turn.id) == (
        "Summarize the last 20 messages here.",
        "answer 1",
        "gpt-sum-1",
    )


def test_summarize_in_a_thread_reads_the_thread(bot, http):
    client, services, provider = bot
    http.add(
        responses.GET, f"{STREAM_URL}/messages/root-1/replies", json={"messages": [CHANNEL[1]]}
    )
    http.add(responses.GET, f"{STREAM_URL}/messages/root-1", json={"message": CHANNEL[0]})
    post(client, "summarize", parent_id="root-1")
    run_queued(services)
    replies = next(c for c in http.calls if "/replies" in c.request.url)
    assert "limit=50" in replies.request.url
    assert (
        provider.questions[0]
        .messages[-1]
        .content.endswith("Alice: Shall we ship on Friday?\nBob: Only after the tests pass.")
    )


def test_summarize_with_nothing_to_read_says_so(bot, http):
    client, services, provider = bot
    http.add(responses.POST, QUERY, json={"channel": {}, "messages": CHANNEL[2:]})
    post(client, "summarize")
    run_queued(services)
    assert final_texts(http) == ["There are no messages here to summarize yet."]
    assert provider.requests == []


def test_duplicate_summarize_deliveries_start_one_job(bot):
    client, services, _ = bot
    post(client, "summarize", message_id="same")
    post(client, "summarize", message_id="same")
    assert services.queue.pending() == 1


def test_empty_arguments_show_help(bot):
    client, _, _ = bot
    message = post(client, "")
    assert message["type"] == "ephemeral" and "/gpt <question>" in message["text"]
