"""The answer job and its durability: queued work survives a restart; dead work is re-run."""

from __future__ import annotations

import json
import re
import time

import pytest
import responses

from gptbot.jobs.job import AnswerJob
from gptbot.jobs.queue import LEASE_S, EmbeddedWorker
from gptbot.services import build_services
from gptbot.stream.reply import reply_id_for
from gptbot.web import commands
from gptbot.web.app import create_app
from gptbot.web.webhook import parse_command
from tests.support.common import (
    LLM_URL,
    command_payload,
    encode,
    make_config,
    signed_headers,
    sse_chat_stream,
)
from tests.support.fakes import final_texts
from tests.support.loop import wait_for


@pytest.fixture
def http(http):
    """Stream, and an LLM that always gives the same answer."""
    http.add(
        responses.POST,
        f"{LLM_URL}/chat/completions",
        body=sse_chat_stream(["Go to ", "Settings → Billing."]),
    )
    return http


def job_for(payload) -> AnswerJob:
    return commands.job_for(parse_command(encode(payload), "wh-1"))


def test_answer_job_posts_the_streamed_answer(http, tmp_path):
    services = build_services(make_config(tmp_path))
    job = job_for(command_payload())
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)
    assert final_texts(http) == ["Go to Settings → Billing."]
    sent = json.loads(
        next(c for c in http.calls if "chat/completions" in c.request.url).request.body
    )
    assert sent["messages"][-1] == {
        "role": "user",
        "content": "How do I change my billing address?",
    }
    services.answerer.run(job)  # a second run of a finished job does nothing
    assert len(final_texts(http)) == 1


def test_llm_failure_leaves_a_friendly_final_message(http, tmp_path):
    http.replace(
        responses.POST,
        f"{LLM_URL}/chat/completions",
        status=401,
        json={"error": {"message": "Incorrect API key"}},
    )
    services = build_services(make_config(tmp_path))
    job = job_for(command_payload())
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)
    assert final_texts(http) == ["Sorry, I can't answer: the language model's API key was "
                                 "rejected. An operator has to fix it."]


def test_length_cut_answers_say_so(http, tmp_path):
    http.replace(
        responses.POST,
        f"{LLM_URL}/chat/completions",
        body=sse_chat_stream(["Part"], finish="length"),
    )
    services = build_services(make_config(tmp_path))
    job = job_for(command_payload())
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)
    assert "length limit" in final_texts(http)[0]


def test_acknowledged_job_is_answered_after_a_restart(http, tmp_path):
    config = make_config(tmp_path)
    before_crash = build_services(config)
    body = encode(command_payload())
    ack = (
        create_app(config, before_crash)
        .test_client()
        .post("/webhooks/stream/gpt", data=body, headers=signed_headers(body))
    )
    assert ack.status_code == 200
    before_crash.close()  # the process dies before any worker picked the job up

    after_restart = build_services(config)
    worker = EmbeddedWorker(after_restart.queue, after_restart.stores.jobs, 2, LEASE_S)
    worker.start()
    try:
        wait_for(lambda: final_texts(http))
    finally:
        worker.stop()
    assert final_texts(http) == ["Go to Settings → Billing."]


def test_sweeper_reruns_a_job_whose_worker_died(http, tmp_path):
    services = build_services(make_config(tmp_path))
    job = job_for(command_payload())
    long_ago = time.time() - 2 * LEASE_S
    services.stores.jobs.claim_job(job.key, job.to_payload(), long_ago)
    services.stores.jobs.start_job(job.key, long_ago, LEASE_S)  # started, then the worker died
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, LEASE_S, sweep_every=3600)
    assert worker.sweep() == 1
    worker.start()  # its own first sweep finds nothing more: the job is queued again
    try:
        wait_for(lambda: final_texts(http))
        assert worker.sweep() == 0
    finally:
        worker.stop()
    record = services.stores.jobs.job(job.key)
    assert (record.state, record.attempts) == ("done", 2)


def test_a_restarted_worker_reruns_dead_jobs_as_it_starts(http, tmp_path):
    services = build_services(make_config(tmp_path))
    job = job_for(command_payload())
    long_ago = time.time() - 2 * LEASE_S
    services.stores.jobs.claim_job(job.key, job.to_payload(), long_ago)
    services.stores.jobs.start_job(job.key, long_ago, LEASE_S)
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, LEASE_S, sweep_every=3600)
    worker.start()
    try:
        wait_for(lambda: final_texts(http))
    finally:
        worker.stop()
    assert final_texts(http) == ["Go to Settings → Billing."]


def test_reply_ids_are_deterministic_and_valid():
    assert job_for(command_payload(message_id="alice-42")).reply_id == "gpt-alice-42"
    odd = "a,b%c" + "x" * 300
    assert re.fullmatch(r"gpt-[0-9a-f]{40}", reply_id_for(odd))
    assert reply_id_for(odd) == reply_id_for(odd)
