"""Stopping an answer: `/gpt stop` and `ai_indicator.stop` end a running stream within one
update interval, keeping the text written so far."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from gptbot.config import EVENTS_PATH
from gptbot.core.events import StreamEvent, TextDelta
from gptbot.core.types import ChatRequest
from gptbot.jobs.answer import Answerer
from gptbot.jobs.job import AnswerJob
from gptbot.jobs.queue import LEASE_S, EmbeddedWorker
from gptbot.jobs.stop import STOPPED_NOTE, StoppableSink, StopRequested
from gptbot.services import build_services
from gptbot.web.app import create_app
from gptbot.web.commands import job_for
from gptbot.web.webhook import parse_command
from tests.support.common import (
    API_SECRET,
    command_payload,
    encode,
    make_config,
    signed_headers,
)
from tests.support.fakes import FakeClock, final_texts
from tests.support.loop import wait_for

INTERVAL = 0.5


class EndlessProvider:
    """Streams "w0 w1 w2 …" until the consumer stops (or `limit` tokens); `on_token` runs
    before each token."""

    name = "endless"

    def __init__(self, on_token=lambda n: None, delay: float = 0.0, limit: int = 100_000) -> None:
        self.on_token = on_token
        self.delay = delay
        self.limit = limit
        self.sent = 0
        self.started = threading.Event()
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        for n in range(self.limit):
            self.on_token(n)
            self.sent = n + 1
            self.started.set()
            time.sleep(self.delay)
            yield TextDelta(f"w{n} ")


@pytest.fixture
def services(tmp_path, http):
    services = build_services(
        make_config(tmp_path, update_interval=INTERVAL), provider=EndlessProvider()
    )
    yield services
    services.close()


def job_in(cid="messaging:general", parent_id=None, message_id="q1") -> AnswerJob:
    payload = command_payload(
        "Tell me everything", message_id=message_id, cid=cid, parent_id=parent_id
    )
    return job_for(parse_command(encode(payload), "wh"))


def run_with_stop(
    services, job: AnswerJob, stop_scopes: list[str], stop_at_token: int = 12, limit: int = 100_000
):
    """Run `job` on a fake clock (0.1 s per token); request stops at one token."""
    clock = FakeClock()

    def on_token(n: int) -> None:
        clock.now += 0.1
        if n == stop_at_token:
            for scope in stop_scopes:
                services.stores.jobs.request_stop(scope, time.time())

    provider = EndlessProvider(on_token, limit=limit)
    answerer = Answerer(services.config, services.stream, provider, services.stores.jobs,
                        services.stores.conversations, services.prompts, clock)
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    answerer.run(job)
    return provider


def test_stop_ends_the_stream_within_one_interval_and_keeps_the_text(services, http):
    job = job_in()
    provider = run_with_stop(services, job, ["messaging:general"], stop_at_token=12)
    assert provider.sent - 12 <= INTERVAL / 0.1 + 1  # tokens consumed after the stop
    [final] = final_texts(http)
    assert final.startswith("w0 w1 w2") and final.endswith(f"\n\n_{STOPPED_NOTE}_")
    events = [
        json.loads(c.request.body)["event"]["type"]
        for c in http.calls
        if c.request.url.split("?")[0].endswith("/event")
    ]
    assert events[-1] == "ai_indicator.clear"  # the client's indicator goes away
    [turn] = services.stores.conversations.load_conversation("messaging:general").turns
    assert turn.answer == final.removesuffix(f"\n\n_{STOPPED_NOTE}_")  # remembered as far as it got


def test_a_channel_stop_reaches_its_threads(services, http):
    provider = run_with_stop(services, job_in(parent_id="root-1"), ["messaging:general"])
    assert provider.sent < 30


def test_a_stop_elsewhere_does_not_stop_this_answer(services, http):
    elsewhere = ["messaging:general/other-thread", "messaging:random"]
    provider = run_with_stop(services, job_in(parent_id="root-1"), elsewhere, 3, limit=40)
    assert provider.sent == 40
    assert final_texts(http)[0].endswith("w39")


def test_a_stop_before_the_job_ran_skips_the_model(services, http):
    job = job_in()
    services.stores.jobs.request_stop("messaging:general", time.time())
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.answerer.run(job)
    assert final_texts(http) == [STOPPED_NOTE]
    assert services.provider.requests == []


def test_a_stop_from_before_the_question_is_ignored(services, http):
    services.stores.jobs.request_stop("messaging:general", time.time() - 5)
    provider = run_with_stop(services, job_in(), [], limit=40)
    assert provider.sent == 40
    assert final_texts(http)[0].endswith("w39")


def test_the_sink_looks_at_the_store_at_most_once_per_interval():
    clock = FakeClock()
    looks = []
    sink = StoppableSink(
        type("Sink", (), {"add": lambda s, d: None, "set_state": lambda s, st: None})(),
        lambda: looks.append(clock.now) or False,
        INTERVAL,
        clock,
    )
    for _ in range(20):
        clock.now += 0.1
        sink.add("x")
    assert len(looks) == 4 and sink.text == "x" * 20
    sink.stop_requested = lambda: True
    clock.now += INTERVAL
    with pytest.raises(StopRequested):
        sink.add("y")


def post_command(client, args, message_id, parent_id=None):
    body = encode(command_payload(args, message_id=message_id, parent_id=parent_id))
    return client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body))


def test_gpt_stop_records_a_stop_and_answers_only_the_sender(services):
    client = create_app(services.config, services).test_client()
    message = post_command(client, "stop", "s1", parent_id="root-1").get_json()["message"]
    assert message["type"] == "ephemeral" and "Stopping" in message["text"]
    assert services.stores.jobs.stop_requested(["messaging:general/root-1"], time.time() - 5)
    assert not services.stores.jobs.stop_requested(["messaging:general"], time.time() - 5)
    assert services.queue.pending() == 0


def post_event(client, event, secret=API_SECRET):
    body = encode(event)
    return client.post(EVENTS_PATH, data=body, headers=signed_headers(body, secret=secret))


def test_ai_indicator_stop_events_stop_the_channel(services):
    client = create_app(services.config, services).test_client()
    event = {
        "type": "ai_indicator.stop",
        "cid": "messaging:general",
        "channel_type": "messaging",
        "channel_id": "general",
        "user": {"id": "alice"},
    }
    response = post_event(client, event)
    assert response.status_code == 200 and response.get_json() == {"status": "stopping"}
    assert services.stores.jobs.stop_requested(["messaging:general"], time.time() - 5)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message.new", "cid": "messaging:general"},
        {"type": "ai_indicator.stop", "cid": "messaging:general", "message_id": "other-bot-1"},
    ],
)
def test_other_events_are_acknowledged_and_ignored(services, event):
    client = create_app(services.config, services).test_client()
    assert post_event(client, event).get_json() == {"status": "ignored"}
    assert not services.stores.jobs.stop_requested(["messaging:general"], 0.0)


def test_stop_events_for_our_reply_or_without_cid_fields(services):
    client = create_app(services.config, services).test_client()
    event = {
        "type": "ai_indicator.stop",
        "channel_type": "messaging",
        "channel_id": "x",
        "message_id": "gpt-q1-2",
    }
    assert post_event(client, event).get_json() == {"status": "stopping"}
    assert services.stores.jobs.stop_requested(["messaging:x"], 0.0)


@pytest.mark.parametrize(
    ("body", "status"), [(b"{", 400), (b"[]", 400), (b'{"type": "ai_indicator.stop"}', 400)]
)
def test_malformed_events_are_4xx(services, body, status):
    client = create_app(services.config, services).test_client()
    response = client.post(EVENTS_PATH, data=body, headers=signed_headers(body))
    assert response.status_code == status


def test_unsigned_events_are_refused(services):
    client = create_app(services.config, services).test_client()
    event = {"type": "ai_indicator.stop", "cid": "messaging:general"}
    assert post_event(client, event, secret=API_SECRET + "x").status_code == 401
    assert not services.stores.jobs.stop_requested(["messaging:general"], 0.0)


def test_stop_through_the_webhook_ends_a_real_running_answer(tmp_path, http):
    """Real threads and clock: the embedded worker streams; `/gpt stop` arrives mid-way."""
    interval = 0.05
    provider = EndlessProvider(delay=0.005)
    config = make_config(tmp_path, update_interval=interval)
    services = build_services(config, provider=provider)
    client = create_app(config, services).test_client()
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 2, LEASE_S)
    worker.start()
    try:
        post_command(client, "Tell me everything", "q1")
        # Mid-way: a few updates' worth of tokens streamed (however long that took).
        wait_for(lambda: provider.sent >= 3 * interval / provider.delay, 30, "the stream")
        post_command(client, "stop", "s1")
        sent_at_stop = provider.sent
        # Wait for the event, not for a time: the answer ends with the stop note.
        [final] = wait_for(lambda: final_texts(http), 30, "the stopped answer's final write")
        tokens_after = provider.sent - sent_at_stop
    finally:
        worker.stop()
        services.close()
    assert final.endswith(f"_{STOPPED_NOTE}_")
    # Each token takes at least `delay`, and the stop is looked for at least once per
    # interval, so a load-independent bound: about one interval's tokens (two, if the look
    # just before the stop landed), never the endless stream's.
    assert tokens_after <= 2 * interval / provider.delay + 2
