"""One contract, two backends: SQLite (default) and Redis (several machines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gptbot.store import Conversation, Store, Turn, open_store
from gptbot.store.redis import RedisStore
from gptbot.store.sqlite import SqliteStore
from tests.support.fakes import redis_client, unique_redis_prefix


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    yield from unique_redis_prefix()


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        backend: Store = SqliteStore(tmp_path / "s.db")
    else:
        backend = RedisStore(redis_client(), prefix=request.getfixturevalue("redis_prefix"))
    yield backend
    backend.close()


def turn(n: int, at: float | None = None) -> Turn:
    return Turn(f"gpt-{n}", float(n) if at is None else at, "alice", "Alice", f"q{n}", f"a{n}")


def test_claim_is_once_per_key(store):
    assert store.claim_job("k1", {"a": 1}, now=100.0)
    assert not store.claim_job("k1", {"a": 2}, now=101.0)
    assert store.claim_job("k2", {"a": 3}, now=101.0)


def test_release_allows_a_new_claim(store):
    store.claim_job("k", {}, now=1.0)
    store.release_job("k")
    assert store.claim_job("k", {}, now=2.0)


def test_start_runs_a_job_once_until_its_lease_expires(store):
    store.claim_job("k", {}, now=100.0)
    assert store.start_job("k", now=101.0, lease_s=60)
    assert not store.start_job("k", now=120.0, lease_s=60)
    store.heartbeat_job("k", now=150.0)
    assert not store.start_job("k", now=200.0, lease_s=60)
    assert store.start_job("k", now=211.0, lease_s=60)


def test_done_jobs_never_start_again_and_stay_claimed(store):
    store.claim_job("k", {}, now=100.0)
    store.start_job("k", now=100.0, lease_s=60)
    store.finish_job("k", now=101.0)
    assert not store.start_job("k", now=10_000.0, lease_s=60)
    assert not store.claim_job("k", {}, now=102.0)
    assert store.stale_jobs(now=10_000.0, lease_s=60, queued_grace_s=60) == []


def test_unknown_jobs_do_not_start(store):
    assert not store.start_job("never-claimed", now=1.0, lease_s=60)


def test_stale_finds_dead_running_and_forgotten_queued_jobs(store):
    store.claim_job("running", {"n": 1}, now=100.0)
    store.start_job("running", now=100.0, lease_s=60)
    store.claim_job("queued", {"n": 2}, now=100.0)
    store.claim_job("fresh", {"n": 3}, now=195.0)
    stale = store.stale_jobs(now=200.0, lease_s=60, queued_grace_s=90)
    assert sorted((r.key, r.state, r.payload["n"]) for r in stale) == [
        ("queued", "queued", 2),
        ("running", "running", 1),
    ]


def test_requeue_resets_the_clock(store):
    store.claim_job("k", {"n": 1}, now=100.0)
    store.start_job("k", now=100.0, lease_s=60)
    store.requeue_job("k", now=500.0)
    assert store.stale_jobs(now=520.0, lease_s=60, queued_grace_s=60) == []
    assert store.start_job("k", now=521.0, lease_s=60)


def test_sqlite_state_survives_reopening(tmp_path):
    first = open_store(f"sqlite:///{tmp_path / 'db' / 'g.db'}")
    first.claim_job("k", {"x": 1}, now=1.0)
    first.close()
    second = open_store(f"sqlite:///{tmp_path / 'db' / 'g.db'}")
    assert not second.claim_job("k", {"x": 1}, now=2.0)
    second.close()


def test_turns_come_back_oldest_first(store):
    store.add_turn("messaging:general", turn(2))
    store.add_turn("messaging:general", turn(1))
    store.add_turn("messaging:general", turn(3))
    assert store.load_conversation("messaging:general") == Conversation(
        "", [turn(1), turn(2), turn(3)]
    )


def test_unknown_conversations_are_empty(store):
    assert store.load_conversation("messaging:nobody") == Conversation()


def test_a_rerun_turn_replaces_the_earlier_one(store):
    store.add_turn("c", turn(1))
    store.add_turn("c", Turn("gpt-1", 1.0, "alice", "Alice", "q1", "a better answer"))
    assert [t.answer for t in store.load_conversation("c").turns] == ["a better answer"]


def test_conversations_are_isolated(store):
    store.add_turn("messaging:a", turn(1))
    store.add_turn("messaging:b", turn(2))
    store.add_turn("messaging:a/root-1", turn(3))
    assert store.load_conversation("messaging:a").turns == [turn(1)]
    assert store.load_conversation("messaging:b").turns == [turn(2)]
    assert store.load_conversation("messaging:a/root-1").turns == [turn(3)]


def test_fold_replaces_turns_with_a_summary(store):
    for n in (1, 2, 3):
        store.add_turn("c", turn(n))
    store.fold_conversation("c", ["gpt-1", "gpt-2"], "they said hello twice")
    assert store.load_conversation("c") == Conversation("they said hello twice", [turn(3)])
    store.fold_conversation("c", [], "a newer summary")
    assert store.load_conversation("c").summary == "a newer summary"


def test_forget_clears_one_conversation_only(store):
    store.add_turn("c", turn(1))
    store.fold_conversation("c", [], "summary")
    store.add_turn("other", turn(2))
    store.forget_conversation("c")
    assert store.load_conversation("c") == Conversation()
    assert store.load_conversation("other").turns == [turn(2)]
    store.forget_conversation("never-seen")


def test_channel_settings_set_and_remove(store):
    assert store.channel_settings("messaging:a") == {}
    store.set_channel_setting("messaging:a", "persona", "reviewer")
    store.set_channel_setting("messaging:a", "system_prompt", "Be brief.")
    store.set_channel_setting("messaging:b", "persona", "analyst")
    assert store.channel_settings("messaging:a") == {
        "persona": "reviewer",
        "system_prompt": "Be brief.",
    }
    store.set_channel_setting("messaging:a", "persona", None)
    store.set_channel_setting("messaging:a", "never-set", None)
    assert store.channel_settings("messaging:a") == {"system_prompt": "Be brief."}
    assert store.channel_settings("messaging:b") == {"persona": "analyst"}


def test_stop_requests_count_from_a_moment_on(store):
    assert not store.stop_requested(["messaging:a"], since=0.0)
    store.request_stop("messaging:a", now=100.0)
    assert store.stop_requested(["messaging:a/root", "messaging:a"], since=100.0)
    assert not store.stop_requested(["messaging:a"], since=100.5)  # asked after the stop
    assert not store.stop_requested(["messaging:b"], since=0.0)
    assert not store.stop_requested([], since=0.0)


def test_sqlite_history_survives_reopening(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    first = open_store(url)
    first.add_turn("messaging:general", turn(1))
    first.fold_conversation("messaging:general", [], "the story so far")
    first.set_channel_setting("messaging:general", "persona", "tutor")
    first.close()
    second = open_store(url)
    assert second.load_conversation("messaging:general") == Conversation(
        "the story so far", [turn(1)]
    )
    assert second.channel_settings("messaging:general") == {"persona": "tutor"}
    second.close()


def test_redis_history_survives_a_new_connection(redis_prefix):
    first = RedisStore(redis_client(), prefix=redis_prefix)
    first.add_turn("messaging:general", turn(1))
    first.fold_conversation("messaging:general", [], "the story so far")
    first.close()
    second = RedisStore(redis_client(), prefix=redis_prefix)
    assert second.load_conversation("messaging:general") == Conversation(
        "the story so far", [turn(1)]
    )
    second.close()


def test_sqlite_upgrades_a_version_1_database(tmp_path):
    import sqlite3

    from gptbot.store.sqlite import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO jobs VALUES ('k', '{}', 'done', 1.0)")
    conn.commit()
    conn.close()
    store = SqliteStore(tmp_path / "old.db")
    assert not store.claim_job("k", {}, now=2.0)  # old data kept
    store.add_turn("c", turn(1))
    assert store.load_conversation("c").turns == [turn(1)]
    store.close()


def test_many_processes_can_open_a_new_sqlite_file_at_once(tmp_path):
    """gunicorn's workers all open the database on a first start, at the same moment."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    path, count = str(tmp_path / "fresh" / "gptbot.db"), 12
    start, results = context.Barrier(count), context.Queue()
    workers = [context.Process(target=_open_and_claim, args=(path, f"k{i}", start, results))
               for i in range(count)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["claimed"] * count


def _open_and_claim(path: str, key: str, start, results) -> None:
    start.wait()
    try:
        store = SqliteStore(path)
        results.put("claimed" if store.claim_job(key, {}, now=1.0) else "refused")
        store.close()
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
