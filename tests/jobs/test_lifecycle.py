"""A job lifecycle that heals itself: the sweeper never dies, a reply never stays
`generating`, a job that keeps failing is parked with its reason, a slow model is not a dead
worker, and the jobs of a dead process are re-run at once."""

from __future__ import annotations

import json
import logging
import subprocess
import time

import pytest
import responses

from gptbot.cli.main import main
from gptbot.jobs.answer import GAVE_UP_NOTE
from gptbot.jobs.owner import current_owner
from gptbot.jobs.queue import EmbeddedWorker
from gptbot.jobs.running import RunningJobs
from gptbot.services import build_services
from gptbot.stream.api import StreamApi
from gptbot.web import commands
from gptbot.web.webhook import parse_command
from tests.support.common import LLM_URL, command_payload, encode, make_config, sse_chat_stream
from tests.support.fakes import MESSAGES
from tests.support.loop import wait_for

ANSWER = "Go to Settings → Billing."
LEASE = 0.6


@pytest.fixture
def http(http):
    http.add(responses.POST, f"{LLM_URL}/chat/completions",
             body=sse_chat_stream(["Go to ", "Settings → Billing."]))
    return http


def job_for(message_id: str = "alice-0001"):
    return commands.job_for(parse_command(encode(command_payload(message_id=message_id)), "wh"))


def services_for(tmp_path, **config):
    """The bot with Stream calls tried once: only the reply writer's own retries remain."""
    config = make_config(tmp_path, job_lease_s=LEASE, **config)
    return build_services(config, stream=StreamApi.from_config(config, attempts=1))


def claimed(services, job, at=None):
    services.stores.jobs.claim_job(job.key, job.to_payload(), at or time.time())
    return job


def final_texts(mock) -> list[str]:
    """The final texts Stream accepted (a refused write changed nothing)."""
    calls = [c for c in mock.calls if c.request.method == "PUT" and c.response is not None
             and c.response.status_code == 200]
    bodies = [json.loads(c.request.body)["set"] for c in calls]
    return [b["text"] for b in bodies if not b["generating"]]


def fail_final_writes(http, times: int, unless: str = "\0"):
    """Stream answers 503 to the first `times` final writes (except those with `unless`)."""
    failed = []

    def update(request):
        fields = json.loads(request.body)["set"]
        if not fields["generating"] and len(failed) < times and unless not in fields["text"]:
            failed.append(fields["text"])
            return 503, {}, json.dumps({"code": 0, "message": "unavailable"})
        return 200, {}, json.dumps({"message": {}})

    http.remove(responses.PUT, MESSAGES)
    http.add_callback(responses.PUT, MESSAGES, callback=update)
    return failed


class FlakyStore:
    """A job store whose `requeue_job` (and first stale_jobs) raise once."""

    def __init__(self, store) -> None:
        self.store = store
        self.failures = {"requeue_job": 1, "stale_jobs": 1}

    def __getattr__(self, name):
        method = getattr(self.store, name)
        if self.failures.get(name):
            def fail(*args, **kwargs):
                self.failures[name] -= 1
                raise RuntimeError(f"{name} is down")
            return fail
        return method


def test_the_sweeper_survives_exceptions_and_sweeps_again(http, tmp_path, caplog):
    services = services_for(tmp_path)
    job = claimed(services, job_for(), at=time.time() - 10)
    services.stores.jobs.start_job(job.key, time.time() - 10, LEASE)  # its worker died
    flaky = FlakyStore(services.stores.jobs)
    worker = EmbeddedWorker(services.queue, flaky, 1, LEASE, sweep_every=0.05)
    with caplog.at_level(logging.ERROR, logger="gptbot.jobs.sweeper"):
        worker.start()
        try:
            wait_for(lambda: final_texts(http), what="the re-run after a failed sweep")
        finally:
            worker.stop()
    assert flaky.failures == {"requeue_job": 0, "stale_jobs": 0}
    assert final_texts(http) == [ANSWER]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert {str(r.exc_info[1]) for r in tracebacks} == {"stale_jobs is down", "requeue_job is down"}


def test_a_final_write_refused_twice_is_retried(http, tmp_path):
    services = services_for(tmp_path)
    failed = fail_final_writes(http, times=2)
    job = claimed(services, job_for())
    services.answerer.run(job)
    assert failed == [ANSWER, ANSWER]
    assert final_texts(http) == [ANSWER]
    assert services.stores.jobs.job(job.key).state == "done"


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr("gptbot.stream.reply.FINAL_WRITE_WAITS", (0.01, 0.01, 0.01, None))


def test_a_final_write_that_keeps_failing_is_finished_by_the_rerun(http, tmp_path, quick_retries):
    services = services_for(tmp_path)
    failed = fail_final_writes(http, times=4)  # every try of the first attempt
    job = claimed(services, job_for())
    services.answerer.run(job)
    record = services.stores.jobs.job(job.key)
    assert (record.state, record.attempts) == ("running", 1)  # left for the sweeper
    assert record.reason.startswith("attempt 1: StreamAPIException")
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, LEASE, sweep_every=0.1)
    worker.start()
    try:
        wait_for(lambda: services.stores.jobs.job(job.key).state == "done", 10, "the re-run")
    finally:
        worker.stop()
    assert len(failed) == 4 and final_texts(http) == [ANSWER]
    assert services.stores.jobs.job(job.key).attempts == 2


def test_a_job_that_keeps_failing_is_parked_with_its_reason(
    http, tmp_path, monkeypatch, capsys, quick_retries
):
    services = services_for(tmp_path, job_max_attempts=2)
    fail_final_writes(http, times=1000, unless=GAVE_UP_NOTE)  # Stream refuses every answer
    job = claimed(services, job_for())
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, LEASE, sweep_every=0.1)
    worker.start()
    try:
        services.queue.enqueue(job.to_payload())
        wait_for(lambda: services.stores.jobs.job(job.key).state == "failed", 20, "parking")
    finally:
        worker.stop()
    record = services.stores.jobs.job(job.key)
    assert record.attempts == 3
    assert record.reason.startswith("gave up after 2 attempts (attempt 2: StreamAPIException")
    assert final_texts(http) == [GAVE_UP_NOTE]
    for name, value in {"STREAM_API_KEY": "k", "STREAM_API_SECRET": "s",
                        "GPTBOT_DATABASE_URL": services.config.database_url}.items():
        monkeypatch.setenv(name, value)
    assert main(["jobs", "--failed"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["KEY", "STATE", "ATTEMPTS", "UPDATED", "REASON"]
    assert row.split()[:3] == [job.key, "failed", "3"] and "gave up after 2 attempts" in row


def test_a_slow_first_token_is_not_a_dead_worker(http, tmp_path):
    """The model is silent for 4 leases; the heartbeat keeps the job, nobody re-runs it."""
    slow_llm(http, 4 * LEASE, ["Go to ", "Settings → Billing."])
    services = services_for(tmp_path)
    job = claimed(services, job_for())
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 2, LEASE, sweep_every=0.05)
    worker.start()
    try:
        services.queue.enqueue(job.to_payload())
        wait_for(lambda: final_texts(http), 15, "the slow answer")
    finally:
        worker.stop()
    record = services.stores.jobs.job(job.key)
    assert (record.state, record.attempts) == ("done", 1)
    assert final_texts(http) == [ANSWER]


def slow_llm(http, delay: float, pieces: list[str]) -> None:
    """The model thinks `delay` seconds before its first byte."""
    def answer(request):
        time.sleep(delay)
        return 200, {"Content-Type": "text/event-stream"}, sse_chat_stream(pieces)

    http.remove(responses.POST, f"{LLM_URL}/chat/completions")
    http.add_callback(responses.POST, f"{LLM_URL}/chat/completions", callback=answer)


def test_a_job_whose_process_died_is_rerun_without_waiting_for_its_lease(http, tmp_path):
    services = services_for(tmp_path)
    dead = subprocess.Popen(["sleep", "30"])
    owner = current_owner().rsplit("/", 2)[0] + f"/{dead.pid}/" + _start_time(dead.pid)
    dead.kill()
    dead.wait()
    jobs = services.stores.jobs
    for message_id, who in [("dead-1", owner), ("alive-1", current_owner()),
                            ("elsewhere-1", "other-machine/pid:[1]/7/99")]:
        job = claimed(services, job_for(message_id))
        jobs.start_job(job.key, time.time(), 3600, who)  # leases far from expiring
    worker = EmbeddedWorker(services.queue, jobs, 1, 3600, sweep_every=3600)
    assert worker.sweep() == 1
    assert [r.key for r in jobs.jobs(state="queued")] == ["msg:dead-1"]
    assert jobs.job("msg:dead-1").reason == "attempt 1: its worker died"


def _start_time(pid: int) -> str:
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19]


def test_a_lost_lease_stops_the_attempt_without_writing(http, tmp_path):
    """Another attempt took the job (this one looked dead): this one writes nothing more."""
    slow_llm(http, 3 * LEASE, ["Too ", "late."])
    services = services_for(tmp_path)
    job = claimed(services, job_for())
    jobs = services.stores.jobs
    original = jobs.heartbeat_job
    jobs.heartbeat_job = lambda key, now, attempt=0: original(key, now, attempt + 1)
    services.answerer.run(job)  # every heartbeat is refused: the lease is someone else's
    assert final_texts(http) == []
    assert jobs.job(job.key).state == "running"  # nothing recorded: not this attempt's job


def test_stopping_hands_unfinished_answers_back(http, tmp_path):
    slow_llm(http, 1.0, ["Too ", "slow."])
    services = services_for(tmp_path)
    job = claimed(services, job_for())
    running: RunningJobs = services.answerer.running
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, LEASE, sweep_every=3600,
                            running=running, grace_s=0.3)
    worker.start()
    services.queue.enqueue(job.to_payload())
    wait_for(lambda: running.snapshot(), what="the answer to start")
    worker.stop()
    record = services.stores.jobs.job(job.key)
    assert (record.state, record.reason) == (
        "queued", "attempt 1: handed back by a worker shutting down")
    assert services.queue.pending() == 1
    time.sleep(1.2)  # the cancelled attempt's model answers: it writes nothing
    assert final_texts(http) == []
