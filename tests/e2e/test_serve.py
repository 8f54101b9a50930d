"""The Procfile's web command, for real: gunicorn with two processes, each with its embedded
worker, sharing one SQLite store and queue. Every question is answered exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from gptbot.cli.dev import free_port
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.servers import FakeLLM, serve_llm

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
QUESTIONS = 12


def procfile_web_command() -> list[str]:
    """The `web:` line, run by a shell as a Procfile platform does."""
    line = next(entry for entry in PROCFILE.read_text().splitlines() if entry.startswith("web:"))
    return ["bash", "-c", "exec " + line.removeprefix("web:").strip()]


def wait_until(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {log.read_text()}"
        time.sleep(0.1)


@pytest.mark.slow
def test_procfile_runs_two_processes_that_answer_each_question_once(tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    llm = FakeLLM(sse_chat_stream(["Answer ", "text."]), piece_sizes=(5, 30))
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        port = free_port()  # after the fakes have their ports, so none of them can take it
        env = {**os.environ, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm_server.url + "/v1",
               "OPENAI_API_KEY": "sk-test", "GPTBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "GPTBOT_DATA_DIR": str(tmp_path), "GPTBOT_LOG_LEVEL": "WARNING",
               "PORT": str(port),
               # gunicorn from this interpreter's environment, activated or not
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        log = tmp_path / "web.log"
        web = subprocess.Popen(procfile_web_command(), env=env, cwd=tmp_path,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: _healthy(port) and state.app.get("custom_action_handler_url"), 60,
                       "the web processes to start and register", log)
            for i in range(QUESTIONS):
                send_user_message(state, "messaging", "general", {"id": f"u{i}"},
                                  f"/gpt question {i}", deliveries=2)
            wait_until(lambda: len(_finished(state)) >= QUESTIONS, 60, "every answer", log)
            time.sleep(1.0)  # room for a wrongly duplicated job to show itself
        finally:
            web.terminate()
            web.wait(timeout=60)
    assert len(_finished(state)) == QUESTIONS
    assert len(llm.requests) == QUESTIONS
    assert all(m["text"] == "Answer text." for m in _finished(state))


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def _finished(state: EmulatorState) -> list[dict]:
    return [m for m in state.messages.values()
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")]
