"""Conversation memory: follow-ups, isolation, reset, folding into a summary, restarts."""

from __future__ import annotations

import json
import time

import pytest
import responses

from gptbot.conversation.memory import SUMMARIZED_NOTE, TRIMMED_NOTE, Memory
from gptbot.core.errors import ProviderError
from gptbot.core.types import Turn
from gptbot.llm.tokens import messages_tokens
from gptbot.services import Services, build_services
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from gptbot.web.app import create_app
from gptbot.web.commands import job_for
from gptbot.web.webhook import parse_command
from tests.support.common import STREAM_URL, command_payload, encode, make_config, signed_headers
from tests.support.fakes import (
    FakeProvider,
    dialogue,
    final_texts,
    is_fold,
    redis_client,
)


@pytest.fixture
def provider():
    return FakeProvider()


@pytest.fixture
def services(tmp_path, http, provider):
    services = build_services(make_config(tmp_path), provider=provider)
    yield services
    services.close()


def ask(
    services: Services,
    question: str,
    message_id: str,
    cid: str = "messaging:general",
    parent_id: str | None = None,
) -> None:
    payload = command_payload(question, message_id=message_id, cid=cid, parent_id=parent_id)
    job = job_for(parse_command(encode(payload), f"wh-{message_id}"))
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)


def test_a_follow_up_sees_the_earlier_turns(services, provider):
    ask(services, "Which plans are there?", "m1")
    ask(services, "What about the second option?", "m2")
    assert dialogue(provider.questions[1]) == [
        ("user", "Which plans are there?"),
        ("assistant", "answer 1"),
        ("user", "What about the second option?"),
    ]


def test_channels_and_threads_are_separate_conversations(services, provider):
    ask(services, "general?", "m1")
    ask(services, "random?", "m2", cid="messaging:random")
    ask(services, "thread?", "m3", parent_id="root-1")
    ask(services, "general again", "m4")
    ask(services, "random again", "m5", cid="messaging:random")
    ask(services, "thread again", "m6", parent_id="root-1")
    follow_ups = [
        [content for role, content in dialogue(r) if role == "user"] for r in provider.questions[3:]
    ]
    assert follow_ups == [
        ["general?", "general again"],
        ["random?", "random again"],
        ["thread?", "thread again"],
    ]


def test_reset_forgets_this_conversation_only(services, provider):
    ask(services, "remember me", "m1")
    ask(services, "other channel", "m2", cid="messaging:random")
    client = create_app(services.config, services).test_client()
    body = encode(command_payload("reset", message_id="m3"))
    reply = client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body))
    assert reply.get_json()["message"]["type"] == "ephemeral"
    assert "forgot" in reply.get_json()["message"]["text"]
    ask(services, "do you know me?", "m4")
    ask(services, "and here?", "m5", cid="messaging:random")
    assert dialogue(provider.questions[2]) == [("user", "do you know me?")]
    assert len(dialogue(provider.questions[3])) == 3


def long_question(n: int) -> str:
    return f"Question {n}: " + "please also weigh this rather long consideration " * 3


def test_overflow_folds_old_turns_into_a_summary_and_says_so(services, provider, http):
    services.answerer.memory.budget = 400
    for n in range(1, 8):
        ask(services, long_question(n), f"m{n}")
    assert provider.folds, "the history never overflowed"
    assert "Question 1:" in provider.folds[0].messages[-1].content
    assert all(messages_tokens(r.messages) <= 400 for r in provider.questions)
    texts = final_texts(http)
    noted = [i for i, text in enumerate(texts) if text.endswith(f"_{SUMMARIZED_NOTE}_")]
    assert len(noted) == len(provider.folds) < len(texts)
    first = provider.questions[noted[0]]
    assert "Summary of the earlier conversation:\nSUMMARY 1" in first.messages[0].content
    assert dialogue(first)[-1] == ("user", long_question(noted[0] + 1).strip())
    stored = services.stores.conversations.load_conversation("messaging:general")
    assert stored.summary.startswith("SUMMARY") and len(stored.turns) < 7


def test_a_failed_summary_still_answers_with_what_fits(services, provider, http):
    def reply(request):
        if is_fold(request):
            raise ProviderError("summaries are down")
        return "fine"

    provider.reply = reply
    services.answerer.memory.budget = 400
    for n in range(1, 8):
        ask(services, long_question(n), f"m{n}")
    assert any(text.endswith(f"_{TRIMMED_NOTE}_") for text in final_texts(http))
    assert all(messages_tokens(r.messages) <= 400 for r in provider.questions)
    assert services.stores.conversations.load_conversation("messaging:general").summary == ""


def test_folding_leaves_room_so_the_next_questions_need_no_new_summary(tmp_path):
    calls = []

    def summarize(previous, turns, limit):
        calls.append([t.id for t in turns])
        return "short summary"

    memory = Memory(open_sqlite(tmp_path / "m.db").conversations, budget=300, summarize=summarize)
    for n in range(12):
        memory.prepare("c", "system", f"question {n} " + "x" * 60)
        memory.remember(
            "c",
            Turn(
                f"t{n}",
                float(n),
                "u",
                "U",
                f"question {n} " + "x" * 60,
                "an answer of moderate length " * 2,
            ),
        )
    assert 1 < len(calls) <= 4  # folds happen, but not on every question
    assert calls[0][0] == "t0"


def test_empty_answers_are_not_remembered(tmp_path):
    conversations = open_sqlite(tmp_path / "m.db").conversations
    memory = Memory(conversations, budget=1000, summarize=lambda *a: "")
    memory.remember("c", Turn("t1", 1.0, "u", "U", "q", "  "))
    assert memory.store.load_conversation("c").turns == []


def test_history_survives_a_restart_with_sqlite(tmp_path, http):
    config = make_config(tmp_path)
    before = build_services(config, provider=FakeProvider())
    ask(before, "Remember the number 42", "m1")
    before.close()
    provider = FakeProvider()
    after = build_services(config, provider=provider)
    ask(after, "Which number?", "m2")
    after.close()
    assert dialogue(provider.requests[0])[:2] == [
        ("user", "Remember the number 42"),
        ("assistant", "answer 1"),
    ]


def test_history_survives_a_restart_with_redis(tmp_path, http, redis_prefix):
    config = make_config(tmp_path)
    before = build_services(
        config, provider=FakeProvider(), stores=redis_stores(redis_client(), prefix=redis_prefix)
    )
    ask(before, "Remember the number 42", "m1")
    before.close()
    provider = FakeProvider()
    after = build_services(
        config, provider=provider, stores=redis_stores(redis_client(), prefix=redis_prefix)
    )
    ask(after, "Which number?", "m2")
    after.close()
    assert dialogue(provider.requests[0])[0] == ("user", "Remember the number 42")


CHANNEL_MESSAGES = [
    {
        "id": "1",
        "type": "regular",
        "text": "the deploy failed at 3pm",
        "user": {"id": "bob", "name": "Bob"},
    },
    {"id": "2", "type": "deleted", "text": "oops", "user": {"id": "bob"}},
    {
        "id": "3",
        "type": "regular",
        "text": "/gpt earlier",
        "command": "gpt",
        "user": {"id": "alice"},
    },
    {
        "id": "4",
        "type": "regular",
        "text": "an earlier answer",
        "ai_generated": True,
        "user": {"id": "gpt-bot"},
    },
    {"id": "5", "type": "regular", "text": "", "user": {"id": "carol"}},
    {"id": "6", "type": "regular", "text": "I rolled it back", "user": {"id": "carol"}},
]


def test_recent_channel_messages_are_context_when_enabled(tmp_path, http, provider):
    http.add(
        responses.POST,
        f"{STREAM_URL}/channels/messaging/general/query",
        json={"channel": {}, "messages": CHANNEL_MESSAGES},
    )
    config = make_config(tmp_path, channel_context=10)
    services = build_services(config, provider=provider)
    ask(services, "What happened to the deploy?", "m1")
    services.close()
    query = next(c for c in http.calls if c.request.url.split("?")[0].endswith("/query"))
    assert json.loads(query.request.body)["messages"] == {"limit": 10}
    system = provider.questions[0].messages[0].content
    assert system.endswith("oldest first:\nBob: the deploy failed at 3pm\ncarol: I rolled it back")


def test_thread_context_starts_with_the_threads_first_message(tmp_path, http, provider):
    http.add(
        responses.GET,
        f"{STREAM_URL}/messages/root-1/replies",
        json={"messages": CHANNEL_MESSAGES[5:]},
    )
    http.add(responses.GET, f"{STREAM_URL}/messages/root-1", json={"message": CHANNEL_MESSAGES[0]})
    config = make_config(tmp_path, channel_context=10)
    services = build_services(config, provider=provider)
    ask(services, "And now?", "m1", parent_id="root-1")
    services.close()
    assert (
        provider.questions[0]
        .messages[0]
        .content.endswith("Bob: the deploy failed at 3pm\ncarol: I rolled it back")
    )


def test_channel_context_is_off_by_default(services, provider, http):
    ask(services, "What happened?", "m1")
    assert not [c for c in http.calls if "/query" in c.request.url]
    assert "Recent messages" not in provider.questions[0].messages[0].content


def test_unreadable_channel_context_does_not_stop_the_answer(tmp_path, http, provider):
    http.add(
        responses.POST,
        f"{STREAM_URL}/channels/messaging/general/query",
        json={"code": 17, "message": "no permission"},
        status=403,
    )
    config = make_config(tmp_path, channel_context=10)
    services = build_services(config, provider=provider)
    ask(services, "What happened?", "m1")
    services.close()
    assert final_texts(http) == ["answer 1"]
