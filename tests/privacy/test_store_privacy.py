"""Retention and forget-me in the conversation and ledger contracts, on both backends."""

from __future__ import annotations

from dataclasses import replace

from gptbot.core.types import Turn
from gptbot.store import LedgerRow
from gptbot.store.ledger import FORGOTTEN
from tests.store.turns import turn

ALL = (0.0, 2.0**40)


def said(n: int, user: str, at: float | None = None) -> Turn:
    return replace(turn(n, at), user_id=user, user_name=user.title())


def call(n: int, user: str, cost: float | None = 0.25) -> LedgerRow:
    return LedgerRow(float(n), f"gpt-{n}", user, "messaging:general", "answer", "openai",
                     "gpt-4o-mini", 1000, 0, 0, 500, 0, False, cost, 0.4, 3.141_592_653_589_793,
                     "ok")


def test_prune_deletes_exactly_the_old_turns_in_every_conversation(stores):
    conversations = stores.conversations
    for n in (1, 2, 5):
        conversations.add_turn("c:a", turn(n))
    for n in (3, 6):
        conversations.add_turn("c:b", turn(n))
    assert conversations.prune_turns(4.0) == 3
    assert [t.id for t in conversations.load_conversation("c:a").turns] == ["gpt-5"]
    assert [t.id for t in conversations.load_conversation("c:b").turns] == ["gpt-6"]
    assert conversations.prune_turns(4.0) == 0


def test_a_conversation_pruned_empty_loses_its_summary_and_no_other_does(stores):
    conversations = stores.conversations
    for key, n in (("c:old", 1), ("c:mixed", 2), ("c:mixed", 9), ("c:new", 8)):
        conversations.add_turn(key, turn(n))
    for key in ("c:old", "c:mixed", "c:new"):
        conversations.fold_conversation(key, [], f"summary of {key}")
    assert conversations.prune_turns(5.0) == 2
    assert conversations.load_conversation("c:old").summary == ""
    assert conversations.load_conversation("c:mixed").summary == "summary of c:mixed"
    assert conversations.load_conversation("c:new").summary == "summary of c:new"


def test_folded_and_forgotten_turns_are_not_counted_again(stores):
    conversations = stores.conversations
    for n in (1, 2, 3):
        conversations.add_turn("c:a", turn(n))
    conversations.fold_conversation("c:a", ["gpt-1"], "s")
    conversations.add_turn("c:b", turn(4))
    conversations.forget_conversation("c:b")
    assert conversations.prune_turns(10.0) == 2
    assert conversations.forget_user("alice") == 0


def test_forget_user_deletes_their_turns_everywhere_and_nobody_elses(stores):
    conversations = stores.conversations
    conversations.add_turn("c:a", said(1, "alice"))
    conversations.add_turn("c:a", said(2, "bob"))
    conversations.add_turn("c:b:thread", said(3, "alice"))
    conversations.add_turn("c:b:thread", said(3, "alice"))  # a re-run: the same turn
    conversations.fold_conversation("c:a", [], "kept summary")
    assert conversations.forget_user("alice") == 2
    a = conversations.load_conversation("c:a")
    assert ([t.id for t in a.turns], a.summary) == (["gpt-2"], "kept summary")
    assert conversations.load_conversation("c:b:thread").turns == []
    assert conversations.forget_user("alice") == 0
    assert conversations.prune_turns(10.0) == 1  # bob's turn, still indexed


def test_forget_user_deletes_every_summary_made_from_their_words(stores):
    conversations = stores.conversations
    for key, n, user in (("c:a", 1, "alice"), ("c:a", 2, "bob"), ("c:b", 3, "bob"),
                         ("c:c", 4, "alice"), ("c:c", 5, "bob"), ("c:c", 6, "bob")):
        conversations.add_turn(key, said(n, user))
    conversations.fold_conversation("c:a", ["gpt-1", "gpt-2"], "alice and bob talked")
    conversations.fold_conversation("c:b", ["gpt-3"], "bob alone")
    conversations.fold_conversation("c:c", ["gpt-4"], "alice asked")
    conversations.fold_conversation("c:c", ["gpt-5"], "alice asked, then bob")  # folds hers
    assert conversations.forget_user("alice") == 0  # her turns are all folded away
    assert conversations.load_conversation("c:a").summary == ""
    assert conversations.load_conversation("c:b").summary == "bob alone"
    c = conversations.load_conversation("c:c")
    assert (c.summary, [t.id for t in c.turns]) == ("", ["gpt-6"])  # bob's turn stays


def test_a_summary_without_the_forgotten_user_stays(stores):
    conversations = stores.conversations
    conversations.add_turn("c:a", said(1, "alice"))
    conversations.fold_conversation("c:a", ["gpt-1"], "alice asked")
    conversations.forget_user("alice")
    conversations.add_turn("c:a", said(2, "bob"))
    conversations.fold_conversation("c:a", ["gpt-2"], "bob asked")
    conversations.forget_user("alice")  # her stale index entry must not cost bob's summary
    assert conversations.load_conversation("c:a").summary == "bob asked"
    conversations.forget_conversation("c:a")
    conversations.add_turn("c:a", said(3, "carol"))
    conversations.fold_conversation("c:a", ["gpt-3"], "carol asked")
    conversations.forget_user("bob")  # forgetting the conversation forgot whose it was
    assert conversations.load_conversation("c:a").summary == "carol asked"


def test_anonymise_replaces_the_user_and_keeps_every_number(stores):
    ledger = stores.ledger
    rows = [call(1, "alice"), call(2, "bob"), call(3, "alice", cost=None), call(4, "alice")]
    for row in rows:
        ledger.record(row)
    ledger.prune_ledger(2.0)  # alice's first row is gone before she asks
    assert ledger.anonymise_user("alice") == 2
    assert ledger.rows(*ALL) == [call(2, "bob"), call(3, FORGOTTEN, cost=None),
                                 call(4, FORGOTTEN)]
    assert ledger.anonymise_user("alice") == 0
    ledger.record(call(5, "alice"))
    assert ledger.anonymise_user("alice") == 1
    assert [r.user_id for r in ledger.rows(*ALL)] == ["bob", FORGOTTEN, FORGOTTEN, FORGOTTEN]
