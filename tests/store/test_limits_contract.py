"""The limits contract on both backends: counters, marks, token buckets, and races.

Every time is a fake `now`; every expected number is worked out by hand in the test.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator

import pytest

from gptbot.store import Charge, Stores
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from tests.support.fakes import redis_client, unique_redis_prefix

T = 1_900_000_000.0  # a fake "now" (2030), so nothing here depends on the real clock
DAY = T + 86_400


@pytest.fixture(params=["sqlite", "redis"])
def connect(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[[], Stores]]:
    """Opens a new connection to this test's database each time it is called."""
    if request.param == "sqlite":
        yield lambda: open_sqlite(tmp_path / "limits.db")
        return
    prefixes = unique_redis_prefix()
    prefix = next(prefixes)
    yield lambda: redis_stores(redis_client(), prefix=prefix)
    next(prefixes, None)  # deletes the prefix's keys


@pytest.fixture
def stores(connect: Callable[[], Stores]) -> Iterator[Stores]:
    opened = connect()
    yield opened
    opened.close()


def count(key: str, amount: int = 1, limit: int = 0, expires_at: float = DAY) -> Charge:
    return Charge(key, amount, limit, expires_at)


# --- charge -----------------------------------------------------------------------------


def test_charge_adds_to_every_counter(stores):
    assert stores.limits.charge([count("a", 1, 5), count("b", 3, 10)], now=T) is None
    assert stores.limits.charge([count("a", 1, 5), count("b", 3, 10)], now=T) is None
    assert stores.limits.counters(["a", "b", "never"], now=T) == {"a": 2, "b": 6, "never": 0}


def test_charge_is_all_or_nothing_and_returns_the_refused_charge(stores):
    stores.limits.charge([count("a", 4, 5)], now=T)
    refused = count("a", 2, 5)
    assert stores.limits.charge([count("b", 10, 100), refused, count("c", 1)], now=T) == refused
    assert stores.limits.counters(["a", "b", "c"], now=T) == {"a": 4, "b": 0, "c": 0}


def test_the_first_charge_over_its_limit_is_returned(stores):
    first, second = count("a", 6, 5), count("b", 7, 5)
    assert stores.limits.charge([count("c", 1, 5), first, second], now=T) is first


def test_a_counter_may_reach_its_limit_but_not_pass_it(stores):
    assert stores.limits.charge([count("a", 5, 5)], now=T) is None
    assert stores.limits.charge([count("a", 1, 5)], now=T) == count("a", 1, 5)
    assert stores.limits.charge([count("a", 0, 5)], now=T) is None
    assert stores.limits.counters(["a"], now=T) == {"a": 5}


def test_limit_zero_is_unlimited_but_still_counted(stores):
    big = 4_000_000_000_000  # micro-USD: four million dollars, past 32 bits and 14 digits
    assert stores.limits.charge([count("usd", big, 0)], now=T) is None
    assert stores.limits.charge([count("usd", 123, 0)], now=T) is None
    assert stores.limits.counters(["usd"], now=T) == {"usd": 4_000_000_000_123}


def test_a_key_charged_twice_in_one_call_is_checked_on_its_total(stores):
    assert stores.limits.charge([count("a", 3, 5), count("a", 3, 5)], now=T) == count("a", 3, 5)
    assert stores.limits.counters(["a"], now=T) == {"a": 0}
    assert stores.limits.charge([count("a", 2, 5), count("a", 3, 5)], now=T) is None
    assert stores.limits.counters(["a"], now=T) == {"a": 5}


def test_negative_charges_are_rejected(stores):
    with pytest.raises(ValueError):
        stores.limits.charge([count("a", -1, 5)], now=T)
    assert stores.limits.counters(["a"], now=T) == {"a": 0}


# --- adjust -----------------------------------------------------------------------------


def test_adjust_settles_a_reservation_and_never_goes_below_zero(stores):
    stores.limits.charge([count("usd", 100_000, 1_000_000)], now=T)
    stores.limits.adjust("usd", -30_000, DAY, now=T)
    assert stores.limits.counters(["usd"], now=T) == {"usd": 70_000}
    stores.limits.adjust("usd", 5, DAY, now=T)
    assert stores.limits.counters(["usd"], now=T) == {"usd": 70_005}
    stores.limits.adjust("usd", -1_000_000, DAY, now=T)
    assert stores.limits.counters(["usd"], now=T) == {"usd": 0}


def test_adjust_creates_a_missing_counter(stores):
    stores.limits.adjust("up", 7, DAY, now=T)
    stores.limits.adjust("down", -7, DAY, now=T)
    assert stores.limits.counters(["up", "down"], now=T) == {"up": 7, "down": 0}


def test_adjust_counts_an_expired_counter_from_zero(stores):
    stores.limits.charge([count("a", 9, expires_at=T + 10)], now=T)
    stores.limits.adjust("a", 2, T + 100, now=T + 10)
    assert stores.limits.counters(["a"], now=T + 50) == {"a": 2}


# --- expiry and prune -------------------------------------------------------------------


def test_an_expired_counter_reads_as_absent(stores):
    stores.limits.charge([count("a", 3, 3, expires_at=T + 10)], now=T)
    assert stores.limits.counters(["a"], now=T + 9.999) == {"a": 3}
    assert stores.limits.counters(["a"], now=T + 10) == {"a": 0}


def test_a_charge_after_expiry_starts_a_fresh_counter(stores):
    stores.limits.charge([count("a", 3, 3, expires_at=T + 10)], now=T)
    assert stores.limits.charge([count("a", 1, 3, expires_at=T + 20)], now=T + 5) is not None
    assert stores.limits.charge([count("a", 1, 3, expires_at=T + 20)], now=T + 10) is None
    assert stores.limits.counters(["a"], now=T + 19) == {"a": 1}
    assert stores.limits.counters(["a"], now=T + 20) == {"a": 0}


def test_prune_forgets_expired_counters_and_marks(stores):
    stores.limits.charge([count("a", expires_at=T + 10), count("b", expires_at=T + 20)], now=T)
    stores.limits.mark_once("warned", T + 10, now=T)
    stores.limits.charge([count("renewed", expires_at=T + 10)], now=T)
    stores.limits.charge([count("renewed", expires_at=T + 50)], now=T + 1)
    assert stores.limits.prune_limits(now=T + 10) == 2
    assert stores.limits.prune_limits(now=T + 10) == 0
    assert stores.limits.counters(["b", "renewed"], now=T + 10) == {"b": 1, "renewed": 2}
    assert stores.limits.prune_limits(now=T + 20) == 1
    assert stores.limits.prune_limits(now=T + 1000) == 1


def test_prune_counts_counters_that_were_born_expired(stores):
    stores.limits.charge([count("late", expires_at=T - 1)], now=T)
    assert stores.limits.counters(["late"], now=T) == {"late": 0}
    assert stores.limits.prune_limits(now=T) == 1


# --- mark_once --------------------------------------------------------------------------


def test_mark_once_is_true_for_the_first_caller_until_expiry(stores):
    assert stores.limits.mark_once("warn:alice:80", T + 100, now=T)
    assert not stores.limits.mark_once("warn:alice:80", T + 100, now=T + 1)
    assert not stores.limits.mark_once("warn:alice:80", T + 500, now=T + 99.5)
    assert stores.limits.mark_once("warn:bob:80", T + 100, now=T + 2)
    assert stores.limits.mark_once("warn:alice:80", T + 200, now=T + 100)
    assert not stores.limits.mark_once("warn:alice:80", T + 200, now=T + 150)


# --- token bucket -----------------------------------------------------------------------


def drain(stores: Stores, bucket: str, per_minute: int, now: float) -> int:
    """How many tokens can be taken at `now` (stops at the first refusal)."""
    taken = 0
    while stores.limits.take_token(bucket, per_minute, now) == 0.0:
        taken += 1
        assert taken <= per_minute, "took more tokens than the bucket holds"
    return taken


def test_a_new_bucket_is_full(stores):
    assert drain(stores, "stream", 6, now=T) == 6
    # 6 a minute refills one token every 10 s.
    assert stores.limits.take_token("stream", 6, now=T) == pytest.approx(10.0, abs=1e-9)


def test_a_bucket_refills_continuously(stores):
    drain(stores, "stream", 60, now=T)
    assert drain(stores, "stream", 60, now=T + 30) == 30
    assert drain(stores, "stream", 60, now=T + 31) == 1


def test_a_bucket_refills_no_further_than_its_capacity(stores):
    drain(stores, "stream", 60, now=T)
    assert drain(stores, "stream", 60, now=T + 10_000) == 60


def test_the_returned_wait_is_exact_and_a_refusal_takes_nothing(stores):
    # Offsets are binary fractions: near 2030 a float time resolves only 2.4e-7 s.
    drain(stores, "stream", 120, now=T)  # 2 tokens a second
    assert stores.limits.take_token("stream", 120, now=T + 0.25) == pytest.approx(0.25, abs=1e-9)
    assert stores.limits.take_token("stream", 120, now=T + 0.375) == pytest.approx(0.125, abs=1e-9)
    assert stores.limits.take_token("stream", 120, now=T + 0.5) == 0.0
    assert stores.limits.take_token("stream", 120, now=T + 0.5) == pytest.approx(0.5, abs=1e-9)


def test_buckets_are_separate(stores):
    drain(stores, "app-1", 6, now=T)
    assert stores.limits.take_token("app-2", 6, now=T) == 0.0


def test_hold_gives_no_tokens_until_the_reset_time(stores):
    stores.limits.hold_bucket("stream", until=T + 30)
    assert stores.limits.take_token("stream", 60, now=T) == pytest.approx(30.0, abs=1e-9)
    assert stores.limits.take_token("stream", 60, now=T + 29.5) == pytest.approx(0.5, abs=1e-9)
    assert stores.limits.take_token("stream", 60, now=T + 30) == 0.0
    # It restarts with the one token just taken, then refills at 1 a second.
    assert stores.limits.take_token("stream", 60, now=T + 30) == pytest.approx(1.0, abs=1e-9)
    assert drain(stores, "stream", 60, now=T + 40) == 10


def test_an_earlier_hold_never_shortens_a_later_one(stores):
    stores.limits.hold_bucket("stream", until=T + 30)
    stores.limits.hold_bucket("stream", until=T + 10)
    assert stores.limits.take_token("stream", 60, now=T + 15) == pytest.approx(15.0, abs=1e-9)
    stores.limits.hold_bucket("stream", until=T + 45)
    assert stores.limits.take_token("stream", 60, now=T + 35) == pytest.approx(10.0, abs=1e-9)


def test_a_hold_empties_a_nearly_full_bucket(stores):
    assert stores.limits.take_token("stream", 60, now=T) == 0.0  # 59 left
    stores.limits.hold_bucket("stream", until=T + 5)
    assert stores.limits.take_token("stream", 60, now=T + 1) == pytest.approx(4.0, abs=1e-9)


def test_several_tokens_are_taken_all_or_nothing(stores):
    # 120 a minute, a burst of 12: 2 a second, 12 at most at once.
    assert stores.limits.take_token("stream", 120, now=T, burst=12, count=5) == 0.0
    assert stores.limits.take_token("stream", 120, now=T, burst=12, count=5) == 0.0
    # 2 left: 5 more come in 1.5 s, and a refusal takes none of the 2.
    assert stores.limits.take_token("stream", 120, now=T, burst=12, count=5) == pytest.approx(
        1.5, abs=1e-9)
    assert drain(stores, "stream", 120, now=T) == 2  # (drain's burst: 0, the capacity 120)
    assert stores.limits.take_token("stream", 120, now=T + 2.5, burst=12, count=5) == 0.0


def test_a_batch_after_a_hold_waits_for_the_whole_batch(stores):
    stores.limits.hold_bucket("stream", until=T + 10)
    # From the hold's one token at T + 10: 3 more at 1 a second.
    assert stores.limits.take_token("stream", 60, now=T, count=4) == pytest.approx(13.0, abs=1e-9)


def test_a_batch_bigger_than_the_bucket_is_refused(stores):
    with pytest.raises(ValueError):
        stores.limits.take_token("stream", 60, now=T, burst=6, count=7)
    with pytest.raises(ValueError):
        stores.limits.take_token("stream", 60, now=T, count=0)


def test_a_bucket_needs_a_positive_rate(stores):
    with pytest.raises(ValueError):
        stores.limits.take_token("stream", 0, now=T)


# --- races ------------------------------------------------------------------------------

LIMIT = 10


def charge_once(stores: Stores) -> bool:
    return stores.limits.charge([count("race", 1, LIMIT)], now=T) is None


def test_threads_never_admit_more_than_the_limit(connect, stores, request):
    """100 threads at once; on Redis each has its own client (its own connection)."""
    threads, start, admitted = 100, threading.Barrier(100), []
    shared = request.node.callspec.params["connect"] == "sqlite"  # one connection a process

    def worker() -> None:
        own = stores if shared else connect()
        start.wait()
        admitted.append(charge_once(own))
        if not shared:
            own.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert (admitted.count(True), len(admitted)) == (LIMIT, threads)
    assert stores.limits.counters(["race"], now=T) == {"race": LIMIT}


def test_processes_never_admit_more_than_the_limit(connect, stores):
    """4 processes of 25 charges, each process with its own connection."""
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_charge_25, args=(connect, start, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert all(isinstance(n, int) for n in outcomes), outcomes
    assert sum(outcomes) == LIMIT, outcomes
    assert stores.limits.counters(["race"], now=T) == {"race": LIMIT}


def _charge_25(connect: Callable[[], Stores], start, results) -> None:
    try:
        own = connect()
        start.wait()
        results.put(sum(charge_once(own) for _ in range(25)))
        own.close()
    except Exception as exc:  # reported, so the parent fails instead of waiting
        results.put(f"{type(exc).__name__}: {exc}")
