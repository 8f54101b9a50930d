"""The audit record of each answer, and `/gpt forget-me`, through the signed webhook and the
job (a provider that reports usage; Stream under `responses`)."""

from __future__ import annotations

import pytest

from gptbot.config.safety import SafetySettings
from gptbot.conversation.memory import conversation_key
from gptbot.store import AuditQuery
from gptbot.store.ledger import FORGOTTEN
from gptbot.web.subcommands import Subcommand, parse
from tests.web.test_costs_in_channel import bot
from tests.web.test_subcommands import post, run_queued

ALL = (0.0, 2.0**40)
CID = "messaging:general"
ANSWER = "Go to Settings, then Billing."






@pytest.fixture
def billed(tmp_path, http):
    client, services, _ = bot(tmp_path)
    yield client, services
    services.close()


def ask(client, services, question, user="alice", **where):
    post(client, question, user=user, **where)
    run_queued(services)


def test_forget_me_is_one_exact_word():
    assert parse("forget-me") == Subcommand("forget-me")
    assert parse("FORGET-ME ") == Subcommand("forget-me")
    assert parse("forget-me please, how?") is None
    assert parse("forget me") is None


def test_each_answer_leaves_one_audit_record(billed):
    client, services = billed
    ask(client, services, "How do I change my billing address?")
    [record] = services.stores.audit.audit_records(AuditQuery())
    assert (record.user_id, record.channel, record.question, record.answer, record.outcome) == \
        ("alice", "messaging:general", "How do I change my billing address?", ANSWER, "done")
    # gpt-4o-mini: 1,000 x $0.15/M + 500 x $0.60/M = $0.00045
    assert (record.model, record.input_tokens, record.output_tokens) == ("gpt-4o-mini", 1000, 500)
    assert record.cost_usd == pytest.approx(0.00045)
    assert record.moderation == () and record.reply_id.startswith("gpt-")


def test_the_audit_keeps_the_redacted_question(tmp_path, http):
    client, services, _ = bot(tmp_path, safety=SafetySettings(redact=("email",)))
    try:
        ask(client, services, "Mail ann@example.com the invoice")
        [record] = services.stores.audit.audit_records(AuditQuery())
    finally:
        services.close()
    assert record.question == "Mail [EMAIL_1] the invoice"


def test_gptbot_audit_false_records_nothing(tmp_path, http):
    client, services, _ = bot(tmp_path, safety=SafetySettings(audit=False))
    try:
        ask(client, services, "How do I change my billing address?")
        assert services.stores.audit.audit_records(AuditQuery()) == []
        assert len(services.stores.ledger.rows(*ALL)) == 1
    finally:
        services.close()


def test_an_audit_failure_does_not_cost_the_answer(billed, monkeypatch, caplog):
    client, services = billed

    def broken(record):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services.answerer.auditor.store, "record_audit", broken)
    ask(client, services, "How do I change my billing address?")
    turns = services.stores.conversations.load_conversation("messaging:general").turns
    assert [t.answer for t in turns] == [ANSWER]
    assert "could not write the audit record" in caplog.text


def test_forget_me_removes_every_trace_of_one_user_and_nobody_elses(billed):
    client, services = billed
    stores = services.stores
    ask(client, services, "alice in the channel")
    ask(client, services, "alice in a thread", parent_id="root-1")
    ask(client, services, "bob in the channel", user="bob")
    ask(client, services, "bob in the thread", user="bob", parent_id="root-1")
    costs_before = sum(row.cost_usd or 0 for row in stores.ledger.rows(*ALL))
    bob_before = _traces(stores, "bob")
    alice_turns, alice_audit, alice_rows = _traces(stores, "alice")
    assert alice_turns == alice_audit == ["alice in a thread", "alice in the channel"]
    assert len(alice_rows) == 2
    assert [len(found) for found in bob_before] == [2, 2, 2]

    message = post(client, "forget-me")
    assert message == {"type": "ephemeral", "text": "Done: I deleted 2 remembered questions "
                       "(and any summary made from them) and 2 audit records; your usage is "
                       "kept without your name."}
    assert _traces(stores, "alice") == ([], [], [])
    assert _traces(stores, "bob") == bob_before
    rows = stores.ledger.rows(*ALL)
    assert sorted(row.user_id for row in rows) == ["bob", "bob", FORGOTTEN, FORGOTTEN]
    assert sum(row.cost_usd or 0 for row in rows) == costs_before
    assert post(client, "forget-me")["text"].startswith(
        "Done: I deleted 0 remembered questions (and any summary made from them) and 0 audit "
        "records")


def test_help_names_forget_me(billed):
    client, _ = billed
    assert "/gpt forget-me" in post(client, "help")["text"]


def _traces(stores, user: str) -> tuple[list[str], list[str], list[str]]:
    """Every place a user's id or words are kept: turns, audit records, ledger rows."""
    keys = (conversation_key(CID, None), conversation_key(CID, "root-1"))
    turns = [t.question for key in keys
             for t in stores.conversations.load_conversation(key).turns if t.user_id == user]
    audit = [r.question for r in stores.audit.audit_records(AuditQuery(user_id=user))]
    ledger = [r.reply_id for r in stores.ledger.rows(*ALL) if r.user_id == user]
    return sorted(turns), sorted(audit), sorted(ledger)
