"""The webhook as Stream calls it: real signatures, raw bytes, no job run inside the request."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from gptbot.core.types import CallTag
from gptbot.services import build_services
from gptbot.web.app import create_app
from tests.support.common import API_SECRET, command_payload, encode, make_config, signed_headers


@pytest.fixture
def bot(tmp_path):
    config = make_config(tmp_path)
    services = build_services(config)
    app = create_app(config, services)
    yield app.test_client(), services
    services.close()


def post(client, payload, webhook_id="wh-1", path="/webhooks/stream/gpt", **kw):
    body = payload if isinstance(payload, bytes) else encode(payload)
    return client.post(path, data=body, headers=signed_headers(body, webhook_id), **kw)


def test_question_is_acknowledged_and_queued(bot):
    client, services = bot
    response = post(client, command_payload("What is Stream?"))
    assert response.status_code == 200
    message = response.get_json()["message"]
    assert message["text"] == "/gpt What is Stream?"
    assert message.get("type", "regular") == "regular"  # the question stays visible
    assert services.queue.pending() == 1


def test_duplicate_deliveries_start_one_job(bot):
    client, services = bot
    first = post(client, command_payload(), webhook_id="wh-1")
    retry = post(client, command_payload(), webhook_id="wh-1")
    other_delivery = post(client, command_payload(), webhook_id="wh-2")
    assert first.get_json() == retry.get_json() == other_delivery.get_json()
    assert services.queue.pending() == 1


def test_empty_question_gets_ephemeral_help(bot):
    client, services = bot
    message = post(client, command_payload("")).get_json()["message"]
    assert message["type"] == "ephemeral"
    assert "/gpt <question>" in message["text"]
    assert services.queue.pending() == 0


def test_unknown_command_is_rejected_with_streams_error_type(bot):
    client, services = bot
    response = post(client, command_payload("x", command="ticket"), path="/webhooks/stream")
    assert response.get_json()["message"]["type"] == "error"
    assert services.queue.pending() == 0


@pytest.mark.parametrize("headers", [{}, {"X-Signature": "0" * 64}, {"X-Signature": "zz"}])
def test_bad_signatures_are_401_and_nothing_happens(bot, headers):
    client, services = bot
    response = client.post(
        "/webhooks/stream/gpt",
        data=encode(command_payload()),
        headers={"Content-Type": "application/json", **headers},
    )
    assert response.status_code == 401
    assert "signature" in response.get_json()["error"].lower()
    assert services.queue.pending() == 0


def test_signature_from_another_secret_is_401(bot):
    client, _ = bot
    body = encode(command_payload())
    response = client.post(
        "/webhooks/stream/gpt", data=body, headers=signed_headers(body, secret=API_SECRET + "x")
    )
    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"message": {"cid": "a:b"}}', b"\xff"])
def test_malformed_signed_bodies_are_400_with_json(bot, body):
    client, services = bot
    response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]
    assert services.queue.pending() == 0


def test_gzip_bodies_are_accepted(bot):
    client, services = bot
    body = encode(command_payload())
    headers = {**signed_headers(body), "Content-Encoding": "gzip"}
    response = client.post("/webhooks/stream/gpt", data=gzip.compress(body), headers=headers)
    assert response.status_code == 200
    assert services.queue.pending() == 1


def test_oversized_bodies_are_413(bot):
    client, _ = bot
    payload = command_payload("x" * 300_000)
    assert post(client, payload).status_code == 413
    huge = b"{" + b" " * 600_000 + b"}"
    assert post(client, huge).status_code == 413


def test_wrong_method_and_path_are_json_errors(bot):
    client, _ = bot
    assert client.get("/webhooks/stream").status_code == 405
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["error"]


def test_health(bot):
    client, _ = bot
    assert client.get("/healthz").get_json() == {"status": "ok", "queued": 0}


def test_ack_is_fast(bot):
    client, _ = bot
    timings = []
    for i in range(50):
        started = time.perf_counter()
        post(client, command_payload(message_id=f"m-{i}"), webhook_id=f"wh-{i}")
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.05  # the real p50/p99 numbers come from bench/


def test_job_payload_carries_what_the_worker_needs(bot):
    client, services = bot
    post(client, command_payload("In a thread?", parent_id="root-1"))
    task = services.queue.huey.dequeue()
    payload = task.args[0]
    assert payload["reply_id"] == "gpt-alice-0001"
    assert payload["parent_id"] == "root-1"
    assert payload["question"] == "In a thread?"
    assert json.loads(json.dumps(payload)) == payload


def test_infrastructure_failures_are_json_503_and_release_the_claim(bot, monkeypatch):
    client, services = bot

    def broken_enqueue(payload):
        raise OSError("disk full")

    monkeypatch.setattr(services.queue, "enqueue", broken_enqueue)
    response = post(client, command_payload())
    assert response.status_code == 503
    assert response.get_json() == {"error": "temporarily unavailable"}
    monkeypatch.undo()
    assert post(client, command_payload()).status_code == 200  # Stream's retry gets through
    assert services.queue.pending() == 1



def test_a_failed_enqueue_gives_the_question_back(bot, monkeypatch):
    client, services = bot
    monkeypatch.setattr(services.queue, "enqueue", lambda payload: (_ for _ in ()).throw(
        OSError("disk full")))
    assert post(client, command_payload()).status_code == 503
    monkeypatch.undo()
    tag = CallTag("", "alice", "messaging:general")

    def asked() -> dict[str, int]:
        return {c.period: v for c, v in services.costs.quotas.read(tag).items()
                if c.metric == "q" and c.scope == "user"}

    assert asked() == {"day": 0, "month": 0}
    assert post(client, command_payload()).status_code == 200  # Stream's retry
    assert asked() == {"day": 1, "month": 1}


def test_a_store_outage_during_the_quota_check_leaves_no_claim(bot, monkeypatch):
    client, services = bot

    def store_down(*args, **kwargs):
        raise OSError("database is locked")

    monkeypatch.setattr(services.costs.quotas, "admit", store_down)
    assert post(client, command_payload()).status_code == 503
    monkeypatch.undo()
    assert post(client, command_payload()).status_code == 200  # Stream's retry gets through
    assert services.queue.pending() == 1
