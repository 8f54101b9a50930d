"""The conversation contract on both backends: turns, summaries, isolation."""

from __future__ import annotations

import pytest

from gptbot.core.types import Conversation, Turn
from tests.store.turns import turn


@pytest.fixture
def conversations(stores):
    return stores.conversations


def test_turns_come_back_oldest_first(conversations):
    conversations.add_turn("messaging:general", turn(2))
    conversations.add_turn("messaging:general", turn(1))
    conversations.add_turn("messaging:general", turn(3))
    assert conversations.load_conversation("messaging:general") == Conversation(
        "", [turn(1), turn(2), turn(3)]
    )


def test_unknown_conversations_are_empty(conversations):
    assert conversations.load_conversation("messaging:nobody") == Conversation()


def test_a_rerun_turn_replaces_the_earlier_one(conversations):
    conversations.add_turn("c", turn(1))
    conversations.add_turn("c", Turn("gpt-1", 1.0, "alice", "Alice", "q1", "a better answer"))
    assert [t.answer for t in conversations.load_conversation("c").turns] == ["a better answer"]


def test_conversations_are_isolated(conversations):
    conversations.add_turn("messaging:a", turn(1))
    conversations.add_turn("messaging:b", turn(2))
    conversations.add_turn("messaging:a/root-1", turn(3))
    assert conversations.load_conversation("messaging:a").turns == [turn(1)]
    assert conversations.load_conversation("messaging:b").turns == [turn(2)]
    assert conversations.load_conversation("messaging:a/root-1").turns == [turn(3)]


def test_fold_replaces_turns_with_a_summary(conversations):
    for n in (1, 2, 3):
        conversations.add_turn("c", turn(n))
    conversations.fold_conversation("c", ["gpt-1", "gpt-2"], "they said hello twice")
    assert conversations.load_conversation("c") == Conversation("they said hello twice", [turn(3)])
    conversations.fold_conversation("c", [], "a newer summary")
    assert conversations.load_conversation("c").summary == "a newer summary"


def test_forget_clears_one_conversation_only(conversations):
    conversations.add_turn("c", turn(1))
    conversations.fold_conversation("c", [], "summary")
    conversations.add_turn("other", turn(2))
    conversations.forget_conversation("c")
    assert conversations.load_conversation("c") == Conversation()
    assert conversations.load_conversation("other").turns == [turn(2)]
    conversations.forget_conversation("never-seen")
