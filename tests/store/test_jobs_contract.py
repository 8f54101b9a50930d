"""The job contract on both backends: claims, leases, stale jobs and stop requests."""

from __future__ import annotations

import pytest


@pytest.fixture
def jobs(stores):
    return stores.jobs


def test_claim_is_once_per_key(jobs):
    assert jobs.claim_job("k1", {"a": 1}, now=100.0)
    assert not jobs.claim_job("k1", {"a": 2}, now=101.0)
    assert jobs.claim_job("k2", {"a": 3}, now=101.0)


def test_release_allows_a_new_claim(jobs):
    jobs.claim_job("k", {}, now=1.0)
    jobs.release_job("k")
    assert jobs.claim_job("k", {}, now=2.0)


def test_start_runs_a_job_once_until_its_lease_expires(jobs):
    jobs.claim_job("k", {}, now=100.0)
    assert jobs.start_job("k", now=101.0, lease_s=60)
    assert not jobs.start_job("k", now=120.0, lease_s=60)
    jobs.heartbeat_job("k", now=150.0)
    assert not jobs.start_job("k", now=200.0, lease_s=60)
    assert jobs.start_job("k", now=211.0, lease_s=60)


def test_done_jobs_never_start_again_and_stay_claimed(jobs):
    jobs.claim_job("k", {}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    jobs.finish_job("k", now=101.0)
    assert not jobs.start_job("k", now=10_000.0, lease_s=60)
    assert not jobs.claim_job("k", {}, now=102.0)
    assert jobs.stale_jobs(now=10_000.0, lease_s=60, queued_grace_s=60) == []


def test_unknown_jobs_do_not_start(jobs):
    assert not jobs.start_job("never-claimed", now=1.0, lease_s=60)


def test_stale_finds_dead_running_and_forgotten_queued_jobs(jobs):
    jobs.claim_job("running", {"n": 1}, now=100.0)
    jobs.start_job("running", now=100.0, lease_s=60)
    jobs.claim_job("queued", {"n": 2}, now=100.0)
    jobs.claim_job("fresh", {"n": 3}, now=195.0)
    stale = jobs.stale_jobs(now=200.0, lease_s=60, queued_grace_s=90)
    assert sorted((r.key, r.state, r.payload["n"]) for r in stale) == [
        ("queued", "queued", 2),
        ("running", "running", 1),
    ]


def test_requeue_resets_the_clock(jobs):
    jobs.claim_job("k", {"n": 1}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    jobs.requeue_job("k", now=500.0)
    assert jobs.stale_jobs(now=520.0, lease_s=60, queued_grace_s=60) == []
    assert jobs.start_job("k", now=521.0, lease_s=60)


def test_stop_requests_count_from_a_moment_on(jobs):
    assert not jobs.stop_requested(["messaging:a"], since=0.0)
    jobs.request_stop("messaging:a", now=100.0)
    assert jobs.stop_requested(["messaging:a/root", "messaging:a"], since=100.0)
    assert not jobs.stop_requested(["messaging:a"], since=100.5)  # asked after the stop
    assert not jobs.stop_requested(["messaging:b"], since=0.0)
    assert not jobs.stop_requested([], since=0.0)


def test_each_start_is_a_new_attempt(jobs):
    jobs.claim_job("k", {}, now=100.0)
    assert jobs.start_job("k", now=100.0, lease_s=60, owner="p1") == 1
    assert jobs.start_job("k", now=101.0, lease_s=60) == 0  # the lease holds
    assert jobs.start_job("k", now=161.0, lease_s=60, owner="p2") == 2
    record = jobs.job("k")
    assert (record.state, record.attempts, record.owner) == ("running", 2, "p2")


def test_a_heartbeat_of_an_old_attempt_is_refused(jobs):
    jobs.claim_job("k", {}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    assert jobs.heartbeat_job("k", now=110.0, attempt=1)
    jobs.start_job("k", now=200.0, lease_s=60)  # the lease of attempt 1 had expired
    assert not jobs.heartbeat_job("k", now=201.0, attempt=1)
    assert jobs.heartbeat_job("k", now=201.0, attempt=2)
    assert jobs.job("k").updated_at == 201.0


def test_heartbeats_of_jobs_not_running_are_refused(jobs):
    jobs.claim_job("k", {}, now=100.0)
    assert not jobs.heartbeat_job("k", now=101.0)
    jobs.start_job("k", now=101.0, lease_s=60)
    jobs.finish_job("k", now=102.0)
    assert not jobs.heartbeat_job("k", now=103.0)
    assert jobs.job("k").updated_at == 102.0
    assert not jobs.heartbeat_job("unknown", now=103.0)


def test_failed_jobs_keep_their_reason_and_never_run_again(jobs):
    jobs.claim_job("k", {"n": 1}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    jobs.fail_job("k", "gave up after 5 attempts: Stream 503", now=101.0)
    record = jobs.job("k")
    assert (record.state, record.reason, record.attempts) == (
        "failed", "gave up after 5 attempts: Stream 503", 1)
    assert not jobs.start_job("k", now=10_000.0, lease_s=60)
    assert not jobs.requeue_job("k", now=10_000.0)
    assert not jobs.claim_job("k", {}, now=102.0)
    assert jobs.stale_jobs(now=10_000.0, lease_s=60, queued_grace_s=60) == []


def test_jobs_end_as_done_failed_or_stopped_only(jobs):
    jobs.claim_job("k", {}, now=100.0)
    jobs.finish_job("k", now=101.0, state="stopped")
    assert jobs.job("k").state == "stopped"
    with pytest.raises(ValueError):
        jobs.finish_job("k", now=102.0, state="queued")


def test_a_retried_attempt_keeps_running_until_its_lease_expires(jobs):
    jobs.claim_job("k", {"n": 1}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    jobs.retry_job("k", "final write failed: 503", now=130.0)
    record = jobs.job("k")
    assert (record.state, record.reason, record.updated_at) == (
        "running", "final write failed: 503", 130.0)
    assert jobs.stale_jobs(now=189.0, lease_s=60, queued_grace_s=600) == []
    assert [r.key for r in jobs.stale_jobs(now=191.0, lease_s=60, queued_grace_s=600)] == ["k"]


def test_requeue_is_fenced_by_the_attempt(jobs):
    jobs.claim_job("k", {}, now=100.0)
    jobs.start_job("k", now=100.0, lease_s=60)
    jobs.start_job("k", now=200.0, lease_s=60)  # attempt 2 took over
    assert not jobs.requeue_job("k", now=201.0, attempt=1)  # a sweep that read attempt 1
    assert jobs.job("k").state == "running"
    assert jobs.requeue_job("k", now=202.0, attempt=2, reason="owner died")
    record = jobs.job("k")
    assert (record.state, record.reason, record.owner) == ("queued", "owner died", "")
    assert not jobs.requeue_job("unknown", now=203.0)


def test_the_listing_is_newest_first_and_filters_by_state(jobs):
    for n, at in enumerate([100.0, 300.0, 200.0]):
        jobs.claim_job(f"k{n}", {"n": n}, now=at)
    jobs.start_job("k0", now=400.0, lease_s=60)
    jobs.fail_job("k0", "broken", now=401.0)
    assert [r.key for r in jobs.jobs()] == ["k0", "k1", "k2"]
    assert [r.key for r in jobs.jobs(limit=2)] == ["k0", "k1"]
    assert [(r.key, r.reason) for r in jobs.jobs(state="failed")] == [("k0", "broken")]
    assert [r.key for r in jobs.jobs(state="queued")] == ["k1", "k2"]
    assert jobs.jobs(state="running") == []
    jobs.start_job("k2", now=500.0, lease_s=60)
    assert [r.key for r in jobs.jobs(state="running")] == ["k2"]
    assert [r.key for r in jobs.jobs(state="queued")] == ["k1"]
    jobs.finish_job("k2", now=501.0, state="stopped")
    assert jobs.jobs(state="running") == []
    assert [r.key for r in jobs.jobs(limit=1)] == ["k2"]
    assert jobs.job("nothing") is None
