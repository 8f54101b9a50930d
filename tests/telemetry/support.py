"""A bot with a telemetry of the test's choosing, over real HTTP (emulator + loopback LLM),
and reading what it exposes."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from gptbot.config import Config
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.llm.providers import Provider
from gptbot.services import Services, build_services
from gptbot.telemetry import Telemetry
from gptbot.telemetry.logs import LineHandler
from tests.support.common import make_config, sse_chat_stream
from tests.support.loop import emulator_state, running_bot
from tests.support.servers import FakeLLM, serve_llm

ANSWER = ["The ", "answer ", "is ", "forty-two."]
USAGE_IN, USAGE_OUT = 9, 3  # what sse_chat_stream reports for every call


@dataclass
class Bot:
    state: EmulatorState
    llm: FakeLLM
    services: Services
    url: str  # the bot's own base URL

    def ask(self, text: str, user: str = "alice", **kw: Any) -> dict:
        return send_user_message(self.state, "messaging", "general",
                                 {"id": user, "name": user.title()}, text, **kw)

    def finished(self) -> list[dict]:
        return [m for m in self.state.messages.values()
                if m["user"]["id"] == "gpt-bot" and not m.get("generating")]


def fake_llm() -> FakeLLM:
    return FakeLLM(sse_chat_stream(ANSWER), piece_sizes=(4, 16))


@contextmanager
def bot(
    tmp: Path,
    telemetry: Telemetry | None = None,
    provider: Callable[[Config], Provider] | None = None,
    **overrides: Any,
) -> Iterator[Bot]:
    state = emulator_state()
    llm = fake_llm()
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(tmp, stream_chat_url=stream.url, update_interval=0.05,
                             openai_base_url=llm_server.url + "/v1", **overrides)
        services = build_services(config, telemetry=telemetry,
                                  provider=provider(config) if provider else None)
        with running_bot(config, services, None):
            url = state.app["custom_action_handler_url"].split("/webhooks/")[0]
            yield Bot(state, llm, services, url)


def samples(exposition: str) -> dict[tuple[str, frozenset], float]:
    """(sample name, its labels) → value, from Prometheus's text format."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def total(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """The sum of a sample over every label set that includes `labels`."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in found.items()
               if sample == name and wanted <= have)


@contextmanager
def log_lines(config: Config, level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Every record of the process, through the production handler, into a buffer."""
    buffer = io.StringIO()
    handler = LineHandler(config, buffer)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
