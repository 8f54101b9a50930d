"""The whole loop over real HTTP: the Stream emulator plays Stream (signed webhook, REST API
with key + server JWT), a loopback LLM streams real SSE bytes in random small pieces, and the
bot runs as `gptbot serve` does (web app + embedded worker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import request

from gptbot.answer import LEASE_S
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.jobs import EmbeddedWorker
from gptbot.registration import register
from gptbot.services import Services, build_services
from gptbot.web import create_app
from tests.support.common import API_KEY, API_SECRET, make_config, sse_chat_stream
from tests.support.servers import FakeLLM, serve_llm

ANSWER = ("To change your billing address, open **Settings → Billing**, choose *Edit address*, "
          "and save. Ünïcödé survives the trip ✓. ") * 3
WORDS = [ANSWER[i:i + 7] for i in range(0, len(ANSWER), 7)]


def wait_until(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@dataclass
class World:
    state: EmulatorState
    llm: FakeLLM
    services: Services
    acks: list[float]

    def ask(self, text: str, **kw: Any) -> dict:
        return send_user_message(self.state, "messaging", "general",
                                 {"id": "alice", "name": "Alice"}, text, **kw)

    def bot_messages(self) -> list[dict]:
        return [m for m in self.state.messages.values() if m["user"]["id"] == "gpt-bot"]

    def wait_for_answer(self, count: int = 1, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [m for m in self.bot_messages() if not m.get("generating")]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise AssertionError(f"no finished answer; bot messages: {self.bot_messages()}")


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    llm = FakeLLM(sse_chat_stream(WORDS), piece_sizes=(1, 16), delay=0.002, first_delay=0.3)
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(tmp_path, stream_chat_url=stream.url,
                             openai_base_url=llm_server.url + "/v1", update_interval=0.05)
        services = build_services(config)
        app = create_app(config, services)
        acks: list[float] = []
        app.after_request(lambda response: (
            acks.append(time.monotonic()) if request.path.startswith("/webhooks") else None,
            response)[1])
        with start_server(app) as bot:
            register(services.stream, config, bot.url)
            worker = EmbeddedWorker(services.jobs, services.store, 2, LEASE_S)
            worker.start()
            try:
                yield World(state, llm, services, acks)
            finally:
                worker.stop()
                services.close()


def test_question_to_streamed_answer(world):
    question = world.ask("/gpt How do I change my billing address?")
    assert question["type"] == "regular"  # the question stays visible in the channel
    hook = world.state.hook_calls[-1]
    assert hook["status"] == 200 and hook["elapsed_ms"] < 250  # LLM still "thinking" (0.3 s)

    [reply] = world.wait_for_answer()
    assert reply["text"] == ANSWER.rstrip()
    assert reply["ai_generated"] is True and reply["generating"] is False
    assert reply["id"] == f"gpt-{question['id']}"
    assert world.llm.request_times[0] > world.acks[0]  # the ack went out before the LLM call
    sent = world.llm.requests[0]["json"]
    assert sent["messages"][-1]["content"] == "How do I change my billing address?"
    # One placeholder + one final text; everything in between was broadcast-only.
    assert world.state.persisted_writes == 2
    assert world.state.requests["EphemeralMessageUpdate"] >= 2
    wait_until(lambda: world.state.events[-1]["type"] == "ai_indicator.clear")
    states = [e.get("ai_state") or e["type"] for e in world.state.events
              if e["type"].startswith("ai_indicator")]
    assert states == ["AI_STATE_THINKING", "AI_STATE_GENERATING", "ai_indicator.clear"]


def test_duplicate_delivery_yields_one_answer(world):
    world.ask("/gpt Hello twice?", deliveries=2)
    world.wait_for_answer()
    time.sleep(0.5)  # give a wrongly queued second job time to show up
    assert len(world.bot_messages()) == 1
    assert len(world.llm.requests) == 1
    assert [c["attempt"] for c in world.state.hook_calls] == [1, 2]


def test_thread_question_is_answered_in_the_thread(world):
    root = world.ask("Is anyone around?")
    world.ask("/gpt Summarise this thread", parent_id=root["id"])
    [reply] = world.wait_for_answer()
    assert reply["parent_id"] == root["id"]


def test_help_is_ephemeral_and_starts_nothing(world):
    help_message = world.ask("/gpt")
    assert help_message["type"] == "ephemeral"
    assert "/gpt <question>" in help_message["text"]
    time.sleep(0.3)
    assert world.bot_messages() == [] and world.llm.requests == []
