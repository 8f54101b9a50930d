"""Several machines: state and queue in Redis, answers from a separate `gptbot worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
import redis

from gptbot.config import Config
from gptbot.emulator import create_emulator_app, send_user_message, start_server
from gptbot.services import build_services
from gptbot.stream.registration import register
from gptbot.web.app import create_app
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.fakes import redis_client
from tests.support.fakes import redis_url as session_redis_url
from tests.support.loop import emulator_state, wait_for
from tests.support.servers import FakeLLM, serve_llm


@pytest.fixture
def redis_url():
    redis_client()  # skips with a reason when no Redis server is reachable
    url = session_redis_url()  # this session's own database (tests/support/fakes.py)
    yield url
    redis.Redis.from_url(url).flushdb()  # a database of its own, emptied afterwards


@pytest.mark.slow
def test_web_enqueues_and_a_separate_worker_answers(redis_url, tmp_path):
    state = emulator_state()
    llm = FakeLLM(sse_chat_stream(["From ", "the worker."]))
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        env = {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm_server.url + "/v1",
               "OPENAI_API_KEY": "sk-test", "GPTBOT_DATABASE_URL": redis_url,
               "GPTBOT_EMBEDDED_WORKER": "false", "GPTBOT_DATA_DIR": str(tmp_path)}
        config = Config.from_env(env)
        assert config.queue_url == redis_url
        services = build_services(config)
        with start_server(create_app(config, services)) as web:
            register(services.stream, config, web.url)
            question = send_user_message(state, "messaging", "general", {"id": "ann"},
                                         f"/gpt run {uuid.uuid4().hex}", deliveries=2)
            assert services.queue.pending() == 1  # no worker in the web process
            worker = subprocess.Popen([sys.executable, "-m", "gptbot.cli", "worker"],
                                      env={**os.environ, **env}, cwd=tmp_path)
            try:
                reply = wait_for(lambda: _finished(state), 30, "the worker's answer")
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0  # a clean, graceful exit
        services.close()
    assert reply["text"] == "From the worker."
    assert reply["id"] == f"gpt-{question['id']}"
    assert len(llm.requests) == 1


def _finished(state):
    done = [m for m in state.messages.values()
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")]
    return done[0] if done else None
