"""Real `gptbot worker` processes against the emulator and a slow loopback LLM, for the
shutdown and crash-recovery tests: the web side runs in the test, the workers do not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gptbot.config import Config
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.services import Services, build_services
from gptbot.stream.registration import register
from gptbot.web.app import create_app
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.loop import chunks, emulator_state
from tests.support.servers import FakeLLM, serve_llm

# A process space of its own: to the worker there, the processes here are another machine's.
ELSEWHERE = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")


def can_run_elsewhere() -> bool:
    try:
        probe = subprocess.run([*ELSEWHERE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def slow_llm(answer: str, seconds: float, first_delay: float = 0.0) -> FakeLLM:
    """Streams `answer` word by word over about `seconds`."""
    words = chunks(answer, 6)
    body = sse_chat_stream(words)
    piece = max(1, len(body) // max(1, int(seconds / 0.1)))
    return FakeLLM(body, piece_sizes=(piece, piece), delay=0.1, first_delay=first_delay)


@dataclass
class Deployment:
    """The emulator, the LLM, the web side (here) and the workers (subprocesses)."""

    state: EmulatorState
    llm: FakeLLM
    env: dict[str, str]
    services: Services
    tmp: Path
    workers: list[subprocess.Popen] = field(default_factory=list)

    def ask(self, text: str, channel: str = "general") -> str:
        """Send a `/gpt` question; returns the id of its reply. Questions in one channel are
        answered one after the other (jobs/in_order.py): give each its own to run at once."""
        message = send_user_message(self.state, "messaging", channel, {"id": "ann"},
                                    f"/gpt {text}")
        return f"gpt-{message['id']}"

    def start_worker(self, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
        """`prefix`: run it through another command, e.g. ELSEWHERE."""
        log = (self.tmp / f"worker-{len(self.workers)}.log").open("wb")
        # A session of its own: stop_workers signals the whole group (unshare ignores SIGTERM).
        worker = subprocess.Popen([*prefix, sys.executable, "-m", "gptbot.cli", "worker"],
                                  env=self.env, cwd=self.tmp, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))

    def shown(self, reply_id: str) -> bool:
        """Whether some text of the reply reached the channel (an intermediate update)."""
        return any(entry["message"].get("text") for entry in self.state.history.get(reply_id, []))

    def finished(self, reply_ids: list[str]) -> bool:
        messages = [self.state.messages.get(reply_id) for reply_id in reply_ids]
        return all(m is not None and not m.get("generating") for m in messages)

    def text(self, reply_id: str) -> str:
        return str(self.state.messages[reply_id]["text"])

    def bot_message_ids(self) -> list[str]:
        """Every bot message in every channel's timeline (a doubled reply shows twice)."""
        with self.state._lock:
            timeline = [i for ids in self.state._timeline.values() for i in ids]
        return [i for i in timeline if self.state.messages[i]["user"]["id"] == "gpt-bot"]

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


@contextmanager
def deployment(tmp: Path, llm: FakeLLM, database_url: str | None = None,
               state: EmulatorState | None = None, **settings: str) -> Iterator[Deployment]:
    state = state or emulator_state()
    with ExitStack() as stack:
        stream = stack.enter_context(start_server(create_emulator_app(state)))
        llm_server = stack.enter_context(serve_llm(llm))
        env = {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm_server.url + "/v1",
               "OPENAI_API_KEY": "sk-test", "GPTBOT_EMBEDDED_WORKER": "false",
               "GPTBOT_DATA_DIR": str(tmp), "GPTBOT_LOG_FORMAT": "text",
               "GPTBOT_UPDATE_INTERVAL_MS": "200", **settings}
        if database_url:
            env["GPTBOT_DATABASE_URL"] = database_url
        config = Config.from_env(env)
        services = build_services(config)
        stack.callback(services.close)
        web = stack.enter_context(start_server(create_app(config, services)))
        register(services.stream, config, web.url)
        bot = Deployment(state, llm, {**os.environ, **env}, services, tmp)
        try:
            yield bot
        finally:
            bot.stop_workers()


def wait_until(condition, timeout: float, what: str, bot: Deployment) -> float:
    """Poll until `condition()`; returns the seconds it took. Fails with the workers' logs."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out waiting for {what}\n{bot.logs()[-6000:]}")
        time.sleep(0.05)
    return time.monotonic() - start
