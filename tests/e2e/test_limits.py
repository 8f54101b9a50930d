"""Daily question limits, for real: two `gptbot serve` processes sharing one store (SQLite
file or Redis), signed webhooks over HTTP, no worker (so every admitted question stays
queued and can be counted) and a loopback LLM that must never be called."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from gptbot.cli.dev import free_port
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from tests.support.common import (
    API_KEY,
    API_SECRET,
    command_payload,
    encode,
    signed_headers,
    sse_chat_stream,
)
from tests.support.fakes import redis_client, redis_url
from tests.support.loop import wait_for
from tests.support.servers import FakeLLM, serve_llm

pytestmark = pytest.mark.slow

REDIS_URL = redis_url()  # this session's own database (support/fakes.py), emptied before/after
WEBHOOK = "/webhooks/stream/gpt"
# Inherited settings that would change what the processes do (a developer's shell, CI).
OURS = ("GPTBOT_", "STREAM_", "OPENAI_", "ANTHROPIC_", "GEMINI_", "OLLAMA_", "PORT",
        "WEB_CONCURRENCY")


@dataclass
class Fakes:
    stream_url: str
    llm_url: str
    llm: FakeLLM


@dataclass
class Pair:
    """Two `gptbot serve` processes on one store and queue."""

    urls: list[str]
    logs: list[Path]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def queued(self) -> int:
        """The shared queue's length, as each process reports it (they must agree)."""
        counts = {requests.get(url + "/healthz", timeout=5).json()["queued"] for url in self.urls}
        assert len(counts) == 1, f"the two processes see different queues: {counts}"
        return counts.pop()

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    llm = FakeLLM(sse_chat_stream(["Should ", "never be asked."]))
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        yield Fakes(stream.url, llm_server.url + "/v1", llm)
    # Whatever a test did, no question reached the model: limits are checked before any job.
    assert llm.requests == []


@pytest.fixture(scope="module")
def pairs(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Pair]]:
    """`pairs(backend, user_limit)`: two serve processes with those settings, started once
    for the module (the first test to ask starts them) and stopped at its end."""
    started: dict[tuple[str, int], Pair] = {}

    def get(backend: str, user_limit: int) -> Pair:
        key = (backend, user_limit)
        if key not in started:
            if backend == "redis" and not any(b == "redis" for b, _ in started):
                redis_client()  # skips with a reason when no Redis server is reachable
                redis.Redis.from_url(REDIS_URL).flushdb()
            data_dir = tmp_path_factory.mktemp(f"{backend}-{user_limit}")
            started[key] = start_pair(fakes, data_dir, backend, user_limit)
        return started[key]

    try:
        yield get
    finally:
        for pair in started.values():
            for process in pair.processes:
                process.terminate()
        for pair in started.values():
            for process in pair.processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        if any(backend == "redis" for backend, _ in started):
            redis.Redis.from_url(REDIS_URL).flushdb()


def start_pair(fakes: Fakes, data_dir: Path, backend: str, user_limit: int) -> Pair:
    base = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env = {**base, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
           "STREAM_CHAT_URL": fakes.stream_url, "OPENAI_BASE_URL": fakes.llm_url,
           "OPENAI_API_KEY": "sk-test", "GPTBOT_DATA_DIR": str(data_dir),
           "GPTBOT_EMBEDDED_WORKER": "false", "GPTBOT_LOG_LEVEL": "WARNING",
           "GPTBOT_USER_DAILY_LIMIT": str(user_limit), "GPTBOT_ADMINS": "boss",
           "GPTBOT_TIMEZONE": "UTC"}
    if backend == "redis":
        env["GPTBOT_DATABASE_URL"] = REDIS_URL  # the queue follows the database
    pair = Pair([], [])
    try:
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = data_dir / f"serve-{port}.log"
            pair.processes.append(subprocess.Popen(
                [sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--processes", "1"],
                env={**env, "GPTBOT_PUBLIC_URL": url}, cwd=data_dir,
                stdout=log.open("wb"), stderr=subprocess.STDOUT))
            pair.urls.append(url)
            pair.logs.append(log)
        for url, process in zip(pair.urls, pair.processes, strict=True):
            wait_for(lambda u=url, p=process: _healthy(u) or p.poll() is not None, 60,
                     f"gptbot serve at {url}")
            assert process.poll() is None, f"gptbot serve exited early:\n{pair.log_text()}"
    except BaseException:
        for process in pair.processes:
            process.kill()
            process.wait(timeout=10)
        raise
    return pair


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).ok
    except requests.RequestException:
        return False


# --- sending commands ----------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    payload: dict[str, Any]
    status: int
    body: dict[str, Any]

    @property
    def acked(self) -> bool:
        """The normal answer: the question stays in the channel exactly as typed."""
        return self.status == 200 and self.body == {"message": self.payload["message"]}

    @property
    def refusal(self) -> str | None:
        message = self.body.get("message", {})
        if self.status == 200 and set(message) == {"type", "text"} \
                and message["type"] == "ephemeral":
            return message["text"]
        return None


def command(user: str, n: int, run: str, role: str = "user") -> dict[str, Any]:
    payload = command_payload(f"question {n} from {user}", message_id=f"{run}-{user}-{n}")
    payload["user"] = {"id": user, "name": user.title(), "role": role}
    return payload


def send(session: requests.Session, url: str, payload: dict[str, Any]) -> Sent:
    body = encode(payload)
    response = session.post(url + WEBHOOK, data=body, timeout=10,
                            headers=signed_headers(body, f"wh-{payload['message']['id']}"))
    return Sent(payload, response.status_code, response.json())


def send_in_turn(pair: Pair, payloads: list[dict[str, Any]]) -> list[Sent]:
    """One after the other, alternating between the two processes."""
    with requests.Session() as session:
        return [send(session, pair.urls[i % 2], p) for i, p in enumerate(payloads)]


def send_at_once(pair: Pair, payloads: list[dict[str, Any]], threads: int = 20) -> list[Sent]:
    """All concurrently, alternating between the two processes."""
    def one(i: int) -> Sent:
        with requests.Session() as session:
            return send(session, pair.urls[i % 2], payloads[i])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(len(payloads))))


def outcomes(sent: list[Sent]) -> dict[str, int]:
    acked = sum(s.acked for s in sent)
    refused = sum(s.refusal is not None for s in sent)
    return {"acked": acked, "refused": refused, "other": len(sent) - acked - refused}


def run_id() -> str:
    """A fresh prefix for message ids; first, out of UTC midnight's way: the counts are
    per day, so a test must not straddle the reset (at most a 20 s wait, once a day)."""
    to_midnight = 86400 - time.time() % 86400
    if to_midnight < 20:
        time.sleep(to_midnight + 0.5)
    return uuid.uuid4().hex[:8]


# --- the tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_51st_question_of_the_day_is_refused_across_two_processes(backend, pairs, fakes):
    pair = pairs(backend, 50)
    user, run = f"alice-{backend}", run_id()
    before = pair.queued()

    sent = send_in_turn(pair, [command(user, n, run) for n in range(51)])

    assert outcomes(sent[:50]) == {"acked": 50, "refused": 0, "other": 0}, pair.log_text()
    refusal = sent[50].refusal
    assert refusal is not None, sent[50]
    assert "50 questions" in refusal and "00:00 UTC" in refusal, refusal
    assert pair.queued() - before == 50
    # Stream redelivers the refused command (to the other process): still refused, no job.
    with requests.Session() as session:
        again = send(session, pair.urls[1], sent[50].payload)
        # An admitted question delivered twice is not a second question, and not charged.
        duplicate = send(session, pair.urls[0], sent[0].payload)
    assert again.refusal == refusal
    assert duplicate.acked
    assert pair.queued() - before == 50
    assert fakes.llm.requests == []


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_100_concurrent_questions_against_a_limit_of_10_admit_exactly_10(backend, pairs, fakes):
    pair = pairs(backend, 10)
    user, run = f"carl-{backend}", run_id()
    before = pair.queued()

    sent = send_at_once(pair, [command(user, n, run) for n in range(100)])

    assert outcomes(sent) == {"acked": 10, "refused": 90, "other": 0}, pair.log_text()
    assert all("10 questions" in s.refusal for s in sent if s.refusal is not None)
    assert pair.queued() - before == 10
    assert fakes.llm.requests == []


def test_an_admin_is_not_held_to_the_user_limit(pairs, fakes):
    pair = pairs("sqlite", 50)
    run = run_id()
    before = pair.queued()

    boss = send_in_turn(pair, [command("boss", n, run) for n in range(51)])  # GPTBOT_ADMINS
    owner = send_in_turn(pair, [command("olga", n, run, role="admin") for n in range(51)])

    assert outcomes(boss) == {"acked": 51, "refused": 0, "other": 0}, pair.log_text()
    assert outcomes(owner) == {"acked": 51, "refused": 0, "other": 0}, pair.log_text()
    assert pair.queued() - before == 102
    assert fakes.llm.requests == []
