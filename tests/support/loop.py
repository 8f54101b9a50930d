"""The whole loop in one process, and waiting on it.

The emulator plays Stream on a loopback port, a scripted `FakeLLM` streams real SSE bytes,
and the bot runs as `gptbot serve` does: web app + embedded worker, registered with the
emulator. The browser tests, the end-to-end tests and scripts/screenshot.py all drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from gptbot.config import Config
from gptbot.emulator import EmulatorState, start_server
from gptbot.emulator.playground import create_dev_app
from gptbot.jobs.queue import LEASE_S, EmbeddedWorker
from gptbot.services import Services, build_services
from gptbot.stream.registration import register
from gptbot.web.app import create_app
from tests.support.common import API_KEY, API_SECRET, make_config
from tests.support.servers import FakeLLM, serve_llm


@dataclass
class Loop:
    url: str  # the emulator's (and, with create_dev_app, the playground's) base URL
    state: EmulatorState
    llm: FakeLLM
    services: Services


def emulator_state() -> EmulatorState:
    """An emulator that accepts the credentials `make_config` gives the bot."""
    return EmulatorState(api_key=API_KEY, api_secret=API_SECRET)


def chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of `size` characters, for a scripted answer to stream word by word."""
    return [text[i : i + size] for i in range(0, len(text), size)]


@contextmanager
def whole_loop(
    tmp: Path,
    llm: FakeLLM,
    emulator: Callable[[EmulatorState], Flask] = create_dev_app,
    setup_bot: Callable[[Flask], object] | None = None,
    **settings: Any,
) -> Iterator[Loop]:
    """Run the loop until the block ends; `setup_bot` sees the bot's app before it serves;
    `settings` are Config fields."""
    state = emulator_state()
    with start_server(emulator(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(
            tmp,
            stream_chat_url=stream.url,
            openai_base_url=llm_server.url + "/v1",
            update_interval=0.05,  # fast enough for growth to show within a test's patience
            **settings,
        )
        services = build_services(config)
        with running_bot(config, services, setup_bot):
            yield Loop(stream.url, state, llm, services)


@contextmanager
def running_bot(
    config: Config,
    services: Services,
    setup: Callable[[Flask], object] | None,
    workers: int = 2,
) -> Iterator[None]:
    app = create_app(config, services)
    if setup:
        setup(app)
    with start_server(app) as bot:
        register(services.stream, config, bot.url)
        worker = EmbeddedWorker(services.queue, services.stores.jobs, workers, LEASE_S)
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            services.close()


def wait_for(
    condition: Callable[[], Any], timeout: float = 10, what: str = "condition", poll: float = 0.02
) -> Any:
    """Poll until `condition()` is truthy and return that value; fail the test if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")
