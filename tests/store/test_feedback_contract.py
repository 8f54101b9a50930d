"""The feedback contract on both backends: one vote per person and reply, withdrawing only
the vote taken back, time ranges, retention and forget-me."""

from __future__ import annotations

from dataclasses import replace

from gptbot.store import Vote
from gptbot.store.feedback import DOWN, UP

ALL = (0.0, 2.0**40)
VOTE = Vote(10.0, "gpt-1", "alice", "messaging:general", UP, "gpt-4o-mini", "support", 0.0012)


def test_a_later_vote_replaces_the_earlier_one(stores):
    feedback = stores.feedback
    feedback.record_vote(VOTE)
    feedback.record_vote(replace(VOTE, at=11.0, vote=DOWN))
    feedback.record_vote(replace(VOTE, user_id="bob", at=12.0, cost_usd=None))
    assert feedback.votes(*ALL) == [replace(VOTE, at=11.0, vote=DOWN),
                                    replace(VOTE, user_id="bob", at=12.0, cost_usd=None)]


def test_withdrawing_removes_only_the_vote_taken_back(stores):
    feedback = stores.feedback
    feedback.record_vote(replace(VOTE, vote=DOWN))
    assert feedback.withdraw_vote("gpt-1", "alice", UP) is False  # her 👍 was replaced
    assert [v.vote for v in feedback.votes(*ALL)] == [DOWN]
    assert feedback.withdraw_vote("gpt-1", "alice", DOWN) is True
    assert feedback.votes(*ALL) == []
    assert feedback.withdraw_vote("gpt-1", "alice", DOWN) is False


def test_votes_in_a_range_prune_and_forget(stores):
    feedback = stores.feedback
    for n, user in ((1, "alice"), (2, "bob"), (3, "alice"), (4, "carol")):
        feedback.record_vote(replace(VOTE, at=float(n), reply_id=f"gpt-{n}", user_id=user))
    assert [v.reply_id for v in feedback.votes(2.0, 4.0)] == ["gpt-2", "gpt-3"]
    assert feedback.prune_votes(2.0) == 1
    assert feedback.forget_voter("alice") == 1
    assert [v.user_id for v in feedback.votes(*ALL)] == ["bob", "carol"]
    assert feedback.forget_voter("alice") == 0
