"""Job state changes are atomic on both backends: processes racing on one job (threads with
clients of their own here) never both win, and a sweep never revives a finished job."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from gptbot.store.redis.jobs import RedisJobs
from gptbot.store.sqlite.db import SqliteDb
from gptbot.store.sqlite.jobs import SqliteJobs
from tests.support.fakes import redis_client

ROUNDS = 150
KEYS = [f"k{n}" for n in range(ROUNDS)]


@pytest.fixture(params=["sqlite", "redis"])
def connect(request, tmp_path) -> Iterator[Callable[[], object]]:
    """Makes a job store with a connection of its own, as another process would have."""
    closers: list[Callable[[], None]] = []

    def open_one():
        if request.param == "sqlite":
            db = SqliteDb(tmp_path / "jobs.db")
            closers.append(db.close)
            return SqliteJobs(db)
        client = redis_client()
        closers.append(client.close)
        return RedisJobs(client, request.getfixturevalue("redis_prefix"))

    yield open_one
    for close in closers:
        close()


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at once, each on its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_processes_claiming_one_key_exactly_one_wins(connect):
    a, b = connect(), connect()
    for key in KEYS:
        won = race(partial(a.claim_job, key, {"by": "a"}, 1.0),
                   partial(b.claim_job, key, {"by": "b"}, 1.0))
        assert sorted(won) == [False, True]
        winner = "a" if won[0] else "b"
        record = a.job(key)
        assert (record.state, record.payload) == ("queued", {"by": winner})  # never half-written


def test_two_workers_starting_one_job_exactly_one_runs_it(connect):
    a, b = connect(), connect()
    for key in KEYS:
        a.claim_job(key, {}, 1.0)
        started = race(partial(a.start_job, key, 2.0, 60, "a"),
                       partial(b.start_job, key, 2.0, 60, "b"))
        assert sorted(started) == [0, 1]
        assert a.job(key).attempts == 1


def test_a_sweep_racing_a_finish_never_revives_the_job(connect):
    worker, sweeper = connect(), connect()
    for key in KEYS:
        worker.claim_job(key, {}, 1.0)
        worker.start_job(key, 1.0, 60)
        race(partial(worker.finish_job, key, 2.0),
             partial(sweeper.requeue_job, key, 2.0))
        assert worker.job(key).state == "done"


def test_a_heartbeat_racing_a_finish_never_reactivates_the_job(connect):
    worker, beat = connect(), connect()
    for key in KEYS:
        worker.claim_job(key, {}, 1.0)
        worker.start_job(key, 1.0, 60)
        race(partial(worker.finish_job, key, 2.0),
             partial(beat.heartbeat_job, key, 3.0))
        record = worker.job(key)
        assert (record.state, record.updated_at) == ("done", 2.0)
    assert worker.jobs(state="running") == [] and worker.jobs(state="queued") == []
