"""Proof: with GPTBOT_REDACT on, the provider receives no e-mail, phone, card or IBAN from the
question, the memory or the channel context, and memory stores none; look-alikes pass."""

from __future__ import annotations

import json
import time

import pytest
import responses

from gptbot.config.safety import SafetySettings
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall
from gptbot.safety import RedactingProvider, Redactor, redacted_request
from gptbot.services import Services, build_services
from gptbot.web.commands import job_for
from gptbot.web.webhook import parse_command
from tests.support.common import STREAM_URL, command_payload, encode, make_config
from tests.support.fakes import FakeProvider

SECRETS = ["ann@example.com", "+1 650-253-0000", "4111 1111 1111 1111",
           "DE89 3704 0044 0532 0130 00", "bob@example.org", "+44 20 7946 0958",
           "5555555555554444", "GB82 WEST 1234 5698 7654 32", "carol@example.net"]
ORDER = "4111 1111 1111 1112"  # fails the Luhn check: an order number, not a card
CHANNEL = [
    {"id": "1", "type": "regular", "user": {"id": "bob", "name": "Bob"},
     "text": "mail me at carol@example.net or pay to GB82 WEST 1234 5698 7654 32"},
    {"id": "2", "type": "regular", "user": {"id": "carol"},
     "text": "my card 5555555555554444, order " + ORDER},
]


@pytest.fixture
def bot(tmp_path, http):
    http.add(responses.POST, f"{STREAM_URL}/channels/messaging/general/query",
             json={"channel": {}, "messages": CHANNEL})
    safety = SafetySettings(redact=("email", "phone", "card", "iban", "ip"))
    provider = FakeProvider(lambda request: "noted [EMAIL_1] and ann@example.com")
    services = build_services(make_config(tmp_path, channel_context=10, safety=safety),
                              provider=provider)
    yield services, provider
    services.close()


def ask(services: Services, question: str, message_id: str) -> None:
    job = job_for(parse_command(encode(command_payload(question, message_id=message_id)),
                                f"wh-{message_id}"))
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)


def sent_text(request: ChatRequest) -> str:
    return json.dumps([(m.content, [c.arguments for c in m.tool_calls])
                       for m in request.messages])


def test_nothing_personal_reaches_the_provider_or_the_memory(bot):
    services, provider = bot
    ask(services, f"I am ann@example.com, +1 650-253-0000, card {SECRETS[2]}, {ORDER}", "m1")
    ask(services, f"and bob@example.org, +44 20 7946 0958, IBAN {SECRETS[3]}?", "m2")
    second = sent_text(provider.questions[1])  # carries memory, context and the question
    assert [s for s in SECRETS if s in second] == []
    assert ORDER in second and "[CARD_" in second and "[IBAN_" in second


def test_memory_stores_no_personal_data(bot):
    services, _ = bot
    assert services.answerer.memory.redactor is not None
    ask(services, f"I am ann@example.com, +1 650-253-0000, card {SECRETS[2]}, {ORDER}", "m1")
    ask(services, f"and bob@example.org, +44 20 7946 0958, IBAN {SECRETS[3]}?", "m2")
    stored = services.stores.conversations.load_conversation("messaging:general")
    remembered = json.dumps([(t.question, t.answer) for t in stored.turns])
    assert len(stored.turns) == 2 and [s for s in SECRETS if s in remembered] == []
    assert ORDER in remembered


def test_one_value_has_one_placeholder_across_the_request():
    redactor = Redactor(["email"])
    request = ChatRequest("m", (
        ChatMessage("system", "context: ann@example.com"),
        ChatMessage("user", "earlier [EMAIL_1] wrote"),
        ChatMessage("assistant", tool_calls=(ToolCall(0, "c1", "lookup",
                                                      '{"who": "ann@example.com"}'),)),
        ChatMessage("tool", "found bob@example.org", tool_call_id="c1"),
        ChatMessage("user", "is ann@example.com bob@example.org?"),
    ))
    contents = [(m.content, [c.arguments for c in m.tool_calls])
                for m in redacted_request(request, redactor).messages]
    assert contents == [
        ("context: [EMAIL_2]", []), ("earlier [EMAIL_1] wrote", []),
        ("", ['{"who": "[EMAIL_2]"}']), ("found [EMAIL_3]", []),
        ("is [EMAIL_2] [EMAIL_3]?", []),
    ]


def test_redaction_is_off_by_default(tmp_path, http):
    provider = FakeProvider()
    services = build_services(make_config(tmp_path), provider=provider)
    ask(services, "I am ann@example.com", "m1")
    services.close()
    assert not services.redactor.enabled and not isinstance(
        services.answerer.provider, RedactingProvider)
    assert "ann@example.com" in provider.questions[0].messages[-1].content


def test_the_user_message_in_the_channel_is_not_touched(bot, http):
    services, _ = bot
    ask(services, "I am ann@example.com", "m1")
    updates = [c.request.body for c in http.calls if c.request.method in ("POST", "PUT")
               and "/messages/m1" in c.request.url]
    assert updates == []  # the bot writes only its own reply
