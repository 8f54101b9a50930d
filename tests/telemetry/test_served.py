"""`gptbot serve` for real: gunicorn with two processes. Every line either process writes is
one JSON object (gunicorn's master, its access log, huey, ours); /metrics, whichever process
answers it, adds up both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from gptbot.cli.dev import free_port
from gptbot.emulator import create_emulator_app, send_user_message, start_server
from tests.support.common import API_KEY, API_SECRET
from tests.support.loop import emulator_state, wait_for
from tests.support.servers import serve_llm
from tests.telemetry.leaks import secret_hits, suite_secrets
from tests.telemetry.support import USAGE_IN, fake_llm, samples, total

QUESTIONS = 6


@pytest.mark.slow
def test_two_processes_log_json_lines_and_their_metrics_add_up(tmp_path):
    state, llm = emulator_state(), fake_llm()
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        port = free_port()
        env = {**os.environ, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm_server.url + "/v1",
               "OPENAI_API_KEY": "sk-test", "GPTBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "GPTBOT_DATA_DIR": str(tmp_path), "GPTBOT_LOG_FORMAT": "json",
               "GPTBOT_LOG_LEVEL": "INFO"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = tmp_path / "serve.log"
        serve = subprocess.Popen(
            [sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--processes", "2", "--threads", "4"],
            env=env, cwd=tmp_path, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _up(url) and state.app.get("custom_action_handler_url"), 60,
                     "gunicorn to start and register")
            for i in range(QUESTIONS):
                send_user_message(state, "messaging", "general", {"id": f"u{i}"}, f"/gpt q{i}")
            wait_for(lambda: len(_answers(state)) == QUESTIONS, 60, "every answer")
            found = wait_for(lambda: _scraped_all(url), 10, "every call in the metrics")
        finally:
            serve.terminate()
            serve.wait(timeout=60)

    assert total(found, "gptbot_webhook_requests_total", outcome="acked") == QUESTIONS
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="input") \
        == USAGE_IN * QUESTIONS
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line, or this fails
    loggers = {r["logger"] for r in records}
    assert {"gunicorn.error", "gunicorn.access", "huey", "gptbot.jobs.answer"} <= loggers
    access = [r for r in records if r["logger"] == "gunicorn.access"
              and r["http"]["path"] == "/webhooks/stream/gpt"]
    assert len(access) == QUESTIONS
    assert all(r["correlation_id"].startswith("gpt-") for r in access)
    assert secret_hits(lines, suite_secrets()) == []


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def _answers(state) -> list[dict]:
    return [m for m in state.messages.values()
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")]


def _scraped_all(url: str) -> dict | None:
    found = samples(requests.get(url + "/metrics", timeout=5).text)
    calls = total(found, "gen_ai_client_operation_duration_seconds_count")
    time.sleep(0.05)
    return found if calls == QUESTIONS else None
