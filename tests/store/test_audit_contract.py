"""The audit contract on both backends: records come back as kept, filtered, pruned, forgotten."""

from __future__ import annotations

from dataclasses import replace

from gptbot.store import AuditQuery, AuditRecord

T = 1_900_000_000.0


def audit(n: int, at: float | None = None, **changes) -> AuditRecord:
    record = AuditRecord(
        at=T + n if at is None else at, reply_id=f"gpt-{n}", user_id="alice",
        channel="messaging:general", question=f"question {n}", answer=f"answer {n}",
        model="gpt-4o-mini", input_tokens=1200, output_tokens=350, cost_usd=0.000_393_6,
        outcome="done",
    )
    return replace(record, **changes)


def everything(stores) -> list[AuditRecord]:
    return stores.audit.audit_records(AuditQuery())


def test_a_record_comes_back_equal_field_for_field(stores):
    kept = [audit(1, at=T + 0.123_456_7, moderation=("ok", "flagged:self-harm")),
            audit(2, cost_usd=None, outcome="failed", answer="", user_id='ålice "q" \\ ✓'),
            audit(3, outcome="cached", cost_usd=0.0, channel="team:x:y", question="a\nb\u2028c")]
    for record in kept:
        stores.audit.record_audit(record)
    back = everything(stores)
    assert back == kept
    assert (type(back[0].at), type(back[0].moderation), back[1].cost_usd) == (float, tuple, None)


def test_a_rerun_replaces_the_record_of_its_reply(stores):
    stores.audit.record_audit(audit(1, outcome="failed", answer=""))
    stores.audit.record_audit(audit(1, at=T + 5))
    assert everything(stores) == [audit(1, at=T + 5)]


def test_one_record_by_its_reply_id(stores):
    stores.audit.record_audit(audit(1, moderation=("question:local:ok",)))
    stores.audit.record_audit(audit(2))
    assert stores.audit.audit_record("gpt-1") == audit(1, moderation=("question:local:ok",))
    assert stores.audit.audit_record("gpt-9") is None


def test_queries_take_a_half_open_time_range_oldest_first(stores):
    for n in (3, 1, 2, 4):
        stores.audit.record_audit(audit(n))
    found = stores.audit.audit_records(AuditQuery(since=T + 2, until=T + 4))
    assert [r.reply_id for r in found] == ["gpt-2", "gpt-3"]
    assert [r.reply_id for r in everything(stores)] == ["gpt-1", "gpt-2", "gpt-3", "gpt-4"]


def test_queries_filter_by_user_and_channel(stores):
    stores.audit.record_audit(audit(1))
    stores.audit.record_audit(audit(2, user_id="bob"))
    stores.audit.record_audit(audit(3, channel="messaging:random"))
    stores.audit.record_audit(audit(4, user_id="bob", channel="messaging:random"))

    def ids(**query) -> list[str]:
        return [r.reply_id for r in stores.audit.audit_records(AuditQuery(**query))]

    assert ids(user_id="bob") == ["gpt-2", "gpt-4"]
    assert ids(channel="messaging:random") == ["gpt-3", "gpt-4"]
    assert ids(user_id="bob", channel="messaging:general") == ["gpt-2"]
    assert ids(user_id="bob", since=T + 3) == ["gpt-4"]
    assert ids(user_id="nobody") == []


def test_prune_deletes_exactly_the_records_before_the_cutoff(stores):
    for n in range(1, 6):
        stores.audit.record_audit(audit(n))
    assert stores.audit.prune_audit(T + 3) == 2
    assert [r.reply_id for r in everything(stores)] == ["gpt-3", "gpt-4", "gpt-5"]
    assert stores.audit.prune_audit(T + 3) == 0
    assert stores.audit.audit_records(AuditQuery(user_id="alice"))[0].reply_id == "gpt-3"


def test_forget_user_deletes_that_users_records_only(stores):
    stores.audit.record_audit(audit(1))
    stores.audit.record_audit(audit(2, user_id="bob"))
    stores.audit.record_audit(audit(3, channel="messaging:random"))
    assert stores.audit.forget_user("alice") == 2
    assert everything(stores) == [audit(2, user_id="bob")]
    assert stores.audit.forget_user("alice") == 0
    assert stores.audit.audit_records(AuditQuery(user_id="alice")) == []
