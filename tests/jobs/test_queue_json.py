"""Queue messages are JSON: write access to the queue is not code execution in the workers."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pytest
import responses
from huey.api import Huey
from huey.exceptions import HueyException
from huey.serializer import Serializer

from gptbot.jobs.queue import EmbeddedWorker, JobQueue, open_huey
from gptbot.jobs.serializer import JsonSerializer, UnsafeMessage
from gptbot.services import build_services
from gptbot.web import commands
from gptbot.web.webhook import parse_command
from tests.support.common import LLM_URL, command_payload, encode, make_config, sse_chat_stream
from tests.support.fakes import final_texts, redis_client
from tests.support.fakes import redis_url as session_redis_url
from tests.support.loop import wait_for


class Exploit:
    """Unpickling this creates a file: proof that reading the message ran code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    client = redis_client()  # this session's own database; skips, saying why, without one
    client.delete("huey.redis.gptbot")
    yield session_redis_url()
    client.delete("huey.redis.gptbot")


def test_pickle_in_the_queue_is_refused_without_running(http, tmp_path, queue_url):
    http.add(responses.POST, f"{LLM_URL}/chat/completions", body=sse_chat_stream(["Still ", "ok."]))
    services = build_services(make_config(tmp_path, queue_url=queue_url))
    marker = tmp_path / "code-ran"
    exploit = pickle.dumps(Exploit(marker))

    # Under huey's default (pickle) serializer, merely taking the message runs the code.
    pickled = open_pickle_huey(services.queue, queue_url)
    pickled.storage.enqueue(exploit, None)
    with pytest.raises(HueyException):  # what ran made a file object, not a task
        pickled.dequeue()
    assert marker.exists()
    marker.unlink()

    # Raw bytes put in the queue by whoever can write to it, then a real job behind them.
    services.queue.huey.storage.enqueue(exploit, None)
    job = commands.job_for(parse_command(encode(command_payload()), "wh"))
    services.stores.jobs.claim_job(job.key, job.to_payload(), time.time())
    services.queue.enqueue(job.to_payload())
    worker = EmbeddedWorker(services.queue, services.stores.jobs, 1, 15.0)
    worker.start()
    try:
        wait_for(lambda: final_texts(http), what="the real job behind the refused message")
    finally:
        worker.stop()
        services.close()
    assert not marker.exists()  # refused, never run
    assert final_texts(http) == ["Still ok."]
    assert services.queue.pending() == 0  # and dropped, not retried forever


def open_pickle_huey(queue: JobQueue, queue_url: str) -> Huey:
    """The same queue, read with huey's default serializer: pickle."""
    huey = open_huey(queue_url)
    huey.serializer = Serializer()
    return huey


def test_messages_are_json_and_round_trip(tmp_path):
    huey = open_huey(f"sqlite:///{tmp_path / 'q.db'}")
    ran = []
    queue = JobQueue(huey, ran.append)
    queue.enqueue({"key": "k", "question": "Ünïcödé ✓"})
    raw = huey.storage.dequeue()
    assert raw.startswith(b'{"format": "gptbot.job/1"')
    huey.execute(huey.deserialize_task(raw))
    assert ran == [{"key": "k", "question": "Ünïcödé ✓"}]


@pytest.mark.parametrize("data", [
    b"\x80\x04K\x01.",  # pickle of 1
    b"[1, 2]",
    b'{"id": "x", "name": "gptbot.answer"}',  # no format marker
    b'{"format": "gptbot.job/1", "id": "x", "name": "t", "shell": "rm -rf /"}',
    b'{"format": "gptbot.job/1", "id": "x", "name": "t", "on_complete": {"id": "y"}}',
])
def test_anything_but_a_gptbot_json_job_is_refused(data):
    with pytest.raises(UnsafeMessage):
        JsonSerializer().deserialize(data)
