"""The answer-cache contract on both backends: round trips, expiry, overwrite, pruning.

Every time is a fake `now`, far from the real clock, so expiry is judged by the caller's
`now` and never by the database's own clock.
"""

from __future__ import annotations

import pytest

from gptbot.store.redis import redis_stores
from tests.support.fakes import redis_client

T = 1_900_000_000.0  # a fake "now" (2030)
KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_a_missing_key_reads_as_none(stores):
    assert stores.answers.get(KEY, now=T) is None


def test_an_answer_comes_back_exactly_as_stored(stores):
    answer = "Stream Chat is a chat API.\n\n* SDKs — many\n* emoji: 💬\n  trailing  "
    stores.answers.put(KEY, answer, expires_at=T + 60, now=T)
    assert stores.answers.get(KEY, now=T) == answer
    assert stores.answers.get(KEY, now=T + 59.999) == answer


def test_an_answer_expires_at_its_expiry(stores):
    stores.answers.put(KEY, "yes", expires_at=T + 60, now=T)
    assert stores.answers.get(KEY, now=T + 60) is None
    assert stores.answers.get(KEY, now=T + 3600) is None


def test_an_answer_stored_already_expired_reads_as_none(stores):
    stores.answers.put(KEY, "stale", expires_at=T, now=T)
    stores.answers.put("other", "staler", expires_at=T - 10, now=T)
    assert stores.answers.get(KEY, now=T) is None
    assert stores.answers.get("other", now=T) is None


def test_keys_are_independent(stores):
    stores.answers.put("a", "first", expires_at=T + 60, now=T)
    stores.answers.put("b", "second", expires_at=T + 10, now=T)
    assert stores.answers.get("a", now=T + 30) == "first"
    assert stores.answers.get("b", now=T + 30) is None


def test_put_overwrites_the_answer_and_its_expiry(stores):
    stores.answers.put(KEY, "old", expires_at=T + 10, now=T)
    stores.answers.put(KEY, "new", expires_at=T + 100, now=T + 5)
    assert stores.answers.get(KEY, now=T + 50) == "new"
    stores.answers.put(KEY, "newest", expires_at=T + 60, now=T + 50)
    assert stores.answers.get(KEY, now=T + 59) == "newest"
    assert stores.answers.get(KEY, now=T + 60) is None  # the shorter expiry applies


def test_prune_forgets_expired_answers_and_counts_them(stores):
    stores.answers.put("gone-1", "a", expires_at=T + 10, now=T)
    stores.answers.put("gone-2", "b", expires_at=T + 20, now=T)
    stores.answers.put("at-expiry", "c", expires_at=T + 30, now=T)
    stores.answers.put("kept", "d", expires_at=T + 31, now=T)
    assert stores.answers.prune_answers(now=T + 30) == 3
    assert stores.answers.prune_answers(now=T + 30) == 0
    assert stores.answers.get("kept", now=T + 30) == "d"


def test_prune_keeps_an_answer_whose_expiry_was_extended(stores):
    stores.answers.put(KEY, "old", expires_at=T + 10, now=T)
    stores.answers.put(KEY, "new", expires_at=T + 100, now=T + 5)
    assert stores.answers.prune_answers(now=T + 50) == 0
    assert stores.answers.get(KEY, now=T + 50) == "new"


def test_prune_with_nothing_stored_is_zero(stores):
    assert stores.answers.prune_answers(now=T) == 0


def test_a_pruned_key_can_be_stored_again(stores):
    stores.answers.put(KEY, "old", expires_at=T + 10, now=T)
    assert stores.answers.prune_answers(now=T + 10) == 1
    stores.answers.put(KEY, "again", expires_at=T + 70, now=T + 10)
    assert stores.answers.get(KEY, now=T + 11) == "again"


# --- Redis only -------------------------------------------------------------------------


def test_redis_forgets_an_answer_by_itself_after_its_span(redis_prefix):
    client = redis_client()
    stores = redis_stores(client, prefix=redis_prefix)
    stores.answers.put(KEY, "yes", expires_at=T + 60, now=T)
    assert 59_000 <= client.pttl(f"{redis_prefix}answer:{KEY}") <= 60_000
    stores.answers.put("stale", "no", expires_at=T - 1, now=T)
    assert not client.exists(f"{redis_prefix}answer:stale")
    stores.close()


@pytest.mark.parametrize("count", [0, 1, 1201])
def test_redis_prune_works_in_batches(redis_prefix, count):
    stores = redis_stores(redis_client(), prefix=redis_prefix)
    for number in range(count):
        stores.answers.put(f"k{number}", "a", expires_at=T + 1, now=T)
    stores.answers.put("kept", "b", expires_at=T + 100, now=T)
    assert stores.answers.prune_answers(now=T + 1) == count
    assert stores.answers.get("kept", now=T + 1) == "b"
    stores.close()
