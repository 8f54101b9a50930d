"""A rig for doctor runs: the Stream emulator, a fake LLM, and on demand a running,
registered bot; everything on loopback."""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gptbot.config import Config
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from gptbot.services import build_services
from gptbot.stream.api import StreamApi
from gptbot.stream.registration import register
from gptbot.web.app import create_app
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.servers import FakeLLM, serve_llm

T = TypeVar("T")


@dataclass
class Rig:
    stack: ExitStack
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    env: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    port: int | None = 8000
    timeout: float = 5.0

    def enter(self, manager: AbstractContextManager[T]) -> T:
        return self.stack.enter_context(manager)

    def config(self, **overrides: str) -> Config:
        return Config.from_env({**self.env, **overrides})

    def stream(self) -> StreamApi:
        return StreamApi.from_config(self.config(), attempts=1)

    def run_bot(self, secret: str = API_SECRET) -> str:
        """A bot answering webhooks (with `secret`); returns its base URL."""
        config = self.config(STREAM_API_SECRET=secret)
        bot = self.enter(start_server(create_app(config, build_services(config))))
        self.values["bot"] = bot.url
        return str(bot.url)

    def register(self, url: str) -> None:
        register(self.stream(), self.config(), url)

    def healthy(self) -> str:
        """A registered, running bot, found through GPTBOT_PUBLIC_URL."""
        url = self.run_bot()
        self.register(url)
        self.env["GPTBOT_PUBLIC_URL"] = url
        return url

    def llm(self, status: int, body: bytes) -> None:
        fake = self.enter(serve_llm(FakeLLM(body, status=status)))
        self.env["OPENAI_BASE_URL"] = fake.url + "/v1"
        self.values["llm"] = fake.url.removeprefix("http://")


@pytest.fixture
def rig(tmp_path, monkeypatch):
    with ExitStack() as stack:
        state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
        stream = stack.enter_context(start_server(create_emulator_app(state)))
        llm = stack.enter_context(serve_llm(FakeLLM(sse_chat_stream(["OK"]))))
        env = {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm.url + "/v1",
               "OPENAI_API_KEY": "sk-test-0123456789wxyz", "GPTBOT_DATA_DIR": str(tmp_path)}
        values = {"stream": stream.url, "key": API_KEY, "llm": llm.url.removeprefix("http://")}
        yield Rig(stack, tmp_path, monkeypatch, env, values)
