"""One contract, two backends: SQLite (default) and Redis (several machines)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gptbot.store import Store, open_store
from gptbot.store.redis import RedisStore
from gptbot.store.sqlite import SqliteStore

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_store() -> RedisStore:
    import redis

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis server reachable at {REDIS_URL}")
    return RedisStore(client, prefix=f"gptbot-test-{uuid.uuid4().hex}:")


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path) -> Iterator[Store]:
    backend: Store = (SqliteStore(tmp_path / "s.db") if request.param == "sqlite"
                      else _redis_store())
    yield backend
    backend.close()


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
        ("queued", "queued", 2), ("running", "running", 1)]


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
