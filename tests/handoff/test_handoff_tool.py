"""The `handoff_to_human` tool: offered to the model only where operators are configured; when
the model calls it, the operators are added and mentioned with the model's summary, the
conversation goes quiet, the handoff is counted, and the model reads back who took over."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import responses

from gptbot.config.safety import SafetySettings
from gptbot.core.events import Finish, StreamEvent, TextDelta, ToolCallDelta
from gptbot.core.types import ChatRequest
from gptbot.jobs.handoff import NOBODY, TOOL_NAME
from gptbot.services import build_services
from gptbot.store import AuditQuery
from gptbot.web.app import create_app
from tests.handoff.test_handoff import MEMBERS, QUIET, added_members, sent_messages
from tests.support.common import STREAM_URL, make_config
from tests.web.test_subcommands import post, run_queued

SUMMARY = "Alice wants a refund for order 7.\nI cannot issue refunds.\nOpen: the refund itself."
CALL = [ToolCallDelta(0, "t1", TOOL_NAME, json.dumps({"summary": SUMMARY, "reason": "refund"})),
        Finish("tool_calls")]
AFTER = "A person from our team will take over here."


class CallsForHelp:
    """First turn: the handoff tool; every later turn: a short text."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        yield from CALL if len(self.requests) == 1 else [TextDelta(AFTER), Finish("stop")]


@contextmanager
def started(tmp_path, http, operators=("op1",)):
    http.add(responses.GET, re.compile(rf"{STREAM_URL}/members"), json={"members": MEMBERS})
    http.add(responses.POST, re.compile(rf"{STREAM_URL}/channels/messaging/general(\?.*)?$"),
             json={"members": []}, status=201)
    config = make_config(tmp_path)
    config = replace(config, safety=SafetySettings(operators=operators))
    provider = CallsForHelp()
    services = build_services(config, provider=provider)
    try:
        yield create_app(config, services).test_client(), services, provider
    finally:
        services.close()


def tool_results(request: ChatRequest) -> list[str]:
    return [m.content for m in request.messages if m.role == "tool"]


def test_the_model_hands_over_and_the_conversation_goes_quiet(tmp_path, http):
    with started(tmp_path, http) as (client, services, provider):
        post(client, "I want a refund for order 7", message_id="m-refund")
        run_queued(services)
        handoff = next(m for m in sent_messages(http) if m["id"] == "gpt-m-refund-handoff")
        assert handoff["mentioned_users"] == ["op1"] and added_members(http) == [["op1"]]
        assert handoff["text"] == ("@op1 I could not help Alice and am handing over: “refund”"
                                   "\nSo far:\n" + SUMMARY)
        [result] = tool_results(provider.requests[1])
        assert result.startswith("Handed over to op1")
        assert post(client, "Are you there?") == {"type": "ephemeral", "text": QUIET}
        outcomes = {r.reply_id: r.outcome
                    for r in services.stores.audit.audit_records(AuditQuery())}
        assert outcomes == {"gpt-m-refund-handoff": "handoff", "gpt-m-refund": "done"}
        purposes = [r.purpose for r in services.stores.ledger.rows(0, float("inf"))]
        assert purposes.count("handoff") == 1


def test_the_tool_is_offered_only_where_operators_are_configured(tmp_path, http):
    with started(tmp_path, http) as (client, services, provider):
        post(client, "hello")
        run_queued(services)
        assert TOOL_NAME in [spec.name for spec in provider.requests[0].tools]
    before = len(sent_messages(http))
    with started(tmp_path / "none", http, operators=()) as (client, services, provider):
        post(client, "hello")
        run_queued(services)
        assert provider.requests[0].tools == ()
        assert not [m for m in sent_messages(http)[before:] if m["id"].endswith("-handoff")]


def test_with_no_operator_in_the_channel_the_model_is_told_and_nothing_goes_quiet(
        tmp_path, http):
    with started(tmp_path, http, operators=("role:nobody",)) as (client, services, provider):
        post(client, "I want a refund", message_id="m-r")
        run_queued(services)
        assert tool_results(provider.requests[1]) == [NOBODY]
        assert not [m for m in sent_messages(http) if m["id"].endswith("-handoff")]
        post(client, "Are you there?")
        assert services.queue.pending() == 1
