"""/metrics, /healthz and /readyz, and each webhook outcome as the metrics count it."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import responses

from gptbot.config import CostLimits
from gptbot.services import build_services
from gptbot.web.app import create_app
from tests.support.common import STREAM_URL, command_payload, encode, make_config, signed_headers
from tests.telemetry.support import samples, total

APP = re.compile(rf"{STREAM_URL}/app")


@pytest.fixture
def bot(tmp_path, http):
    config = replace(make_config(tmp_path), limits=CostLimits(user_daily=2))
    services = build_services(config)
    yield create_app(config, services).test_client(), services, http
    services.close()


def post(client, payload, webhook_id="wh-1"):
    body = payload if isinstance(payload, bytes) else encode(payload)
    return client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body, webhook_id))


def outcomes(client) -> dict[str, float]:
    found = samples(client.get("/metrics").get_data(as_text=True))
    return {dict(labels)["outcome"]: value for (name, labels), value in found.items()
            if name == "gptbot_webhook_requests_total" and value}


def test_every_webhook_is_counted_under_its_outcome(bot, monkeypatch):
    client, services, _ = bot
    assert post(client, command_payload("one", message_id="m1")).status_code == 200
    assert post(client, command_payload("one", message_id="m1"), "wh-2").status_code == 200
    assert post(client, command_payload("two", message_id="m2")).status_code == 200
    assert post(client, command_payload("three", message_id="m3")).status_code == 200
    body = encode(command_payload())
    assert client.post("/webhooks/stream/gpt", data=body,
                       headers=signed_headers(b"{}")).status_code == 401
    assert post(client, b"not json").status_code == 400
    monkeypatch.setattr(services.stores.jobs, "claim_job", _down)  # the store is down
    assert post(client, command_payload("four", message_id="m4")).status_code == 503
    assert outcomes(client) == {"acked": 2, "duplicate": 1, "refused_limit": 1,
                                "bad_signature": 1, "bad_request": 1, "error": 1}


def test_metrics_are_prometheus_text_with_the_queue_depth(bot):
    client, _, _ = bot
    post(client, command_payload("one", message_id="m1"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert total(samples(response.get_data(as_text=True)), "gptbot_jobs", state="queued") == 1


def test_healthz_says_the_process_is_alive(bot):
    client, _, _ = bot
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_readyz_checks_stream_once_a_minute_at_most(bot):
    client, _, http = bot
    app = http.add(responses.GET, APP, json={"app": {"name": "gptbot"}})
    for _ in range(3):
        response = client.get("/readyz")
        assert (response.status_code, response.get_json()) == (200, {"status": "ready"})
    assert app.call_count == 1  # the passing check is trusted, not repeated per probe


def test_readyz_names_what_fails(bot, monkeypatch):
    client, services, http = bot
    http.add(responses.GET, APP, status=401, json={"code": 5, "message": "bad api secret"})
    monkeypatch.setattr(services.queue, "pending", _down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable",
                                   "failing": {"queue": "ConnectionError",
                                               "stream": "StreamAPIException"}}


def _down(*args: object) -> None:
    raise ConnectionError("the queue is down")
