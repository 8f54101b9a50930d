"""`/gpt human` and `/gpt resume` through the signed webhook and the queued handoff job,
Stream under `responses`: the operators are mentioned and added with the model's three-line
summary (the last questions when the model fails), the handoff is counted, the bot stays quiet
until an operator resumes, and a thread's handoff and its channel's are separate."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from gptbot.config.safety import SafetySettings
from gptbot.conversation.handoff import SUMMARY_PROMPT
from gptbot.core.errors import ProviderError
from gptbot.costs.report import summarize
from gptbot.services import build_services
from gptbot.store import AuditQuery
from gptbot.web.app import create_app
from gptbot.web.subcommands import Subcommand, parse
from tests.support.common import STREAM_URL, make_config
from tests.support.fakes import FakeProvider
from tests.web.test_subcommands import post, run_queued

CHANNEL = f"{STREAM_URL}/channels/messaging/general"
MEMBERS = [  # alice and carol are members; op1 is not; carol holds the channel role
    {"user_id": "alice", "user": {"id": "alice", "name": "Alice", "role": "user"}},
    {"user_id": "carol", "channel_role": "support",
     "user": {"id": "carol", "name": "Carol", "role": "user"}},
]
QUIET = ("A person is handling this conversation now; `/gpt resume` (operators) hands it back "
         "to me.")


@pytest.fixture
def client(tmp_path, http):
    http.add(responses.GET, re.compile(rf"{STREAM_URL}/members"), json={"members": MEMBERS})
    http.add(responses.POST, re.compile(rf"{CHANNEL}(\?.*)?$"), json={"members": []}, status=201)
    with start(tmp_path, ("op1", "role:support")) as bot:
        yield bot


SUMMARY = "- Alice wants to change her billing address.\n2. I said: Settings, then Billing.\n" \
    "* Still open: a double charge on her card.\nA fourth line that is dropped."


def replies(request):
    """Three bulleted lines (and one too many) for a handoff summary; numbered answers else."""
    if request.messages[0].content == SUMMARY_PROMPT:
        return SUMMARY
    return "Settings, then Billing."


@contextmanager
def start(tmp_path, operators, reply=replies):
    config = make_config(tmp_path, admins=("bob",))
    config = replace(config, safety=SafetySettings(operators=operators))
    provider = FakeProvider(reply)
    services = build_services(config, provider=provider)
    try:
        yield create_app(config, services).test_client(), services, provider
    finally:
        services.close()


def sent_messages(http) -> list[dict]:
    calls = [c.request for c in http.calls if c.request.method == "POST"]
    return [json.loads(r.body)["message"] for r in calls if "/message?" in r.url]


def added_members(http) -> list[list[str]]:
    bodies = [json.loads(c.request.body) for c in http.calls
              if c.request.method == "POST" and re.match(rf"{CHANNEL}\?", c.request.url)]
    return [b["add_members"] for b in bodies if "add_members" in b]


def members_queried(http) -> list[dict]:
    urls = [c.request.url for c in http.calls if c.request.method == "GET" and "/members" in
            c.request.url]
    return [json.loads(parse_qs(urlparse(u).query)["payload"][0]) for u in urls]


@pytest.mark.parametrize(("args", "expected"), [
    ("human", Subcommand("human")),
    ("HUMAN  my card was charged twice", Subcommand("human", "my card was charged twice")),
    ("resume", Subcommand("resume")),
    ("resume the story please", None),
])
def test_human_and_resume_parse(args, expected):
    assert parse(args) == expected


def test_human_mentions_and_adds_the_operators_with_a_summary(client, http):
    test_client, services, provider = client
    post(test_client, "How do I change my billing address?")
    run_queued(services)
    before = len(sent_messages(http))
    answer = post(test_client, "human my card was charged twice", message_id="m-human")
    assert answer["type"] == "ephemeral" and "op1" in answer["text"] and "Carol" in answer["text"]
    assert post(test_client, "What now?")["text"] == QUIET  # quiet at once, before the job
    assert members_queried(http)[0]["type"] == "messaging"
    run_queued(services)
    assert added_members(http) == [["op1"]]  # carol is a member already
    [message] = sent_messages(http)[before:]
    assert sorted(message["mentioned_users"]) == ["carol", "op1"]
    assert message["text"] == (
        "@op1 @Carol Alice asked for a person to take over: “my card was charged twice”\n"
        "So far:\nAlice wants to change her billing address.\nI said: Settings, then Billing.\n"
        "Still open: a double charge on her card.")
    assert "parent_id" not in message and message["id"] == "gpt-m-human"
    [summary_request] = [r for r in provider.requests
                         if r.messages[0].content == SUMMARY_PROMPT]
    assert "Alice: How do I change my billing address?" in summary_request.messages[1].content
    assert "my card was charged twice" in summary_request.messages[1].content


def test_the_handoff_is_counted_in_the_audit_log_and_the_usage_report(client):
    test_client, services, _ = client
    post(test_client, "How do I change my billing address?")
    run_queued(services)
    post(test_client, "human my card", message_id="m-h")
    run_queued(services)
    [record] = [r for r in services.stores.audit.audit_records(AuditQuery())
                if r.outcome == "handoff"]
    assert (record.reply_id, record.outcome, record.user_id, record.question) == \
        ("gpt-m-h", "handoff", "alice", "my card")
    assert record.answer.startswith("Alice wants to change")
    rows = services.stores.ledger.rows(0, float("inf"))
    mine = [r for r in rows if r.reply_id == "gpt-m-h"]
    assert [(r.purpose, r.input_tokens == 0, r.cost_usd == 0.0) for r in mine] == \
        [("handoff_summary", False, False), ("handoff", True, True)]
    totals = summarize(rows, "user", services.costs.quotas.periods).totals
    assert (totals.handoffs, totals.questions, totals.calls) == (1, 1, 2)


def test_without_a_conversation_or_a_working_model_the_summary_is_the_last_questions(
        tmp_path, http):
    http.add(responses.GET, re.compile(rf"{STREAM_URL}/members"), json={"members": MEMBERS})

    def broken(request):
        if request.messages[0].content == SUMMARY_PROMPT:
            raise ProviderError("the model is down")
        return "Settings, then Billing."

    with start(tmp_path, ("carol",), broken) as (test_client, services, _):
        post(test_client, "human")
        run_queued(services)
        assert sent_messages(http)[-1]["text"].endswith(
            "So far:\nNo questions to the assistant here yet.")
        post(test_client, "resume", user="carol")
        post(test_client, "How do I change my billing address?")
        run_queued(services)
        post(test_client, "human", message_id="m-2")
        run_queued(services)
        assert sent_messages(http)[-1]["text"].endswith(
            "So far:\nAlice asked: How do I change my billing address?")


def test_a_redelivered_human_queues_one_job_and_posts_one_message(client, http):
    test_client, services, _ = client
    post(test_client, "human", message_id="m-twice")
    post(test_client, "human", message_id="m-twice")
    assert services.queue.pending() == 1
    run_queued(services)
    assert [m["id"] for m in sent_messages(http)] == ["gpt-m-twice"]


def test_the_bot_stays_quiet_until_an_operator_resumes(client, http):
    test_client, services, provider = client
    post(test_client, "human")
    run_queued(services)
    assert post(test_client, "What is Stream?") == {"type": "ephemeral", "text": QUIET}
    assert post(test_client, "summarize") == {"type": "ephemeral", "text": QUIET}
    assert services.queue.pending() == 0
    refused = post(test_client, "resume", user="alice")
    assert refused["type"] == "ephemeral" and refused["text"].startswith("Only operators")
    assert post(test_client, "What is Stream?")["text"] == QUIET
    assert "again" in post(test_client, "resume", user="op1")["text"]
    assert post(test_client, "What is Stream?")["args"] == "What is Stream?"
    assert services.queue.pending() == 1 and provider.requests == []


@pytest.mark.parametrize("user", ["carol", "bob"])  # channel role support; an admin
def test_a_role_operator_or_an_admin_may_resume(client, user):
    test_client, services, _ = client
    post(test_client, "human")
    run_queued(services)
    assert "again" in post(test_client, "resume", user=user)["text"]
    post(test_client, "What is Stream?")
    assert services.queue.pending() == 1


def test_a_handed_off_thread_leaves_the_channel_answering(client, http):
    test_client, services, _ = client
    post(test_client, "human", parent_id="p1")
    run_queued(services)
    assert sent_messages(http)[-1]["parent_id"] == "p1"
    assert post(test_client, "What is Stream?", parent_id="p1")["text"] == QUIET
    post(test_client, "What is Stream?")
    assert services.queue.pending() == 1


def test_a_handed_off_channel_leaves_its_threads_answering(client):
    test_client, services, _ = client
    post(test_client, "human")
    run_queued(services)
    post(test_client, "What is Stream?", parent_id="p1")
    assert services.queue.pending() == 1
    assert post(test_client, "resume", user="op1", parent_id="p1")["text"].startswith(
        "This thread was not handed over")
    assert post(test_client, "What is Stream?")["text"] == QUIET


def test_a_second_human_posts_nothing_more(client, http):
    test_client, services, _ = client
    post(test_client, "human")
    assert "already" in post(test_client, "human")["text"]
    run_queued(services)
    assert len(sent_messages(http)) == 1 and len(added_members(http)) == 1


def test_without_operators_nothing_is_posted_and_nothing_goes_quiet(tmp_path, http):
    with start(tmp_path, ()) as (test_client, services, _):
        assert "GPTBOT_OPERATORS" in post(test_client, "human")["text"]
        post(test_client, "What is Stream?")
        assert services.queue.pending() == 1 and sent_messages(http) == []


def test_help_lists_human_and_resume(client):
    text = post(client[0], "help")["text"]
    assert "`/gpt human [note]`" in text and "`/gpt resume`" in text
