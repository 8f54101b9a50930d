"""The turn-order contract on both backends: a conversation's jobs in the order asked, each
conversation on its own, leaving, re-joining, pruning."""

from __future__ import annotations


def test_jobs_wait_behind_those_asked_earlier_in_their_conversation(stores):
    order = stores.turn_order
    order.join_turn("c:a", "k2", 2.0)
    order.join_turn("c:a", "k1", 1.0)
    order.join_turn("c:a", "k3", 3.0)
    order.join_turn("c:b", "k0", 0.5)  # another conversation: no one's turn depends on it
    assert order.turns_ahead("c:a", "k1") == []
    assert order.turns_ahead("c:a", "k3") == ["k1", "k2"]
    assert order.turns_ahead("c:b", "k0") == []
    order.leave_turn("c:a", "k1")
    assert order.turns_ahead("c:a", "k3") == ["k2"]


def test_the_same_moment_orders_by_key_and_joining_twice_changes_nothing(stores):
    order = stores.turn_order
    order.join_turn("c", "b", 5.0)
    order.join_turn("c", "a", 5.0)
    order.join_turn("c", "a", 9.0)  # a redelivery keeps the first time
    assert order.turns_ahead("c", "b") == ["a"]
    assert order.turns_ahead("c", "a") == []


def test_an_unqueued_job_waits_for_nobody(stores):
    order = stores.turn_order
    order.join_turn("c", "k1", 1.0)
    assert order.turns_ahead("c", "other") == []
    order.leave_turn("c", "never-joined")  # no error


def test_prune_drops_only_old_entries(stores):
    order = stores.turn_order
    for n in (1, 2, 3):
        order.join_turn("c", f"k{n}", float(n))
    assert order.prune_turn_order(2.5) == 2
    assert order.turns_ahead("c", "k3") == []
    assert order.prune_turn_order(2.5) == 0
