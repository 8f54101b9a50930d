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
