"""The whole loop over real HTTP: the Stream emulator plays Stream (signed webhook, REST API
with key + server JWT), a loopback LLM streams real SSE bytes in random small pieces, and the
bot runs as `gptbot serve` does (web app + embedded worker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, Response, request

from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message
from gptbot.services import Services
from tests.support.common import sse_chat_stream
from tests.support.loop import chunks, wait_for, whole_loop
from tests.support.servers import FakeLLM

ANSWER = (
    "To change your billing address, open **Settings → Billing**, choose *Edit address*, "
    "and save. Ünïcödé survives the trip ✓. "
) * 3
WORDS = chunks(ANSWER, 7)


@dataclass
class World:
    state: EmulatorState
    llm: FakeLLM
    services: Services
    acks: list[float]

    def ask(self, text: str, **kw: Any) -> dict:
        return send_user_message(
            self.state, "messaging", "general", {"id": "alice", "name": "Alice"}, text, **kw
        )

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
    llm = FakeLLM(sse_chat_stream(WORDS), piece_sizes=(1, 16), delay=0.002, first_delay=0.8)
    acks: list[float] = []

    def record_acks(app: Flask) -> None:
        # When each webhook answer left the bot, to check it went out before the LLM call.
        @app.after_request
        def ack(response: Response) -> Response:
            if request.path.startswith("/webhooks"):
                acks.append(time.monotonic())
            return response

    with whole_loop(tmp_path, llm, create_emulator_app, record_acks) as loop:
        yield World(loop.state, llm, loop.services, acks)


def test_question_to_streamed_answer(world):
    question = world.ask("/gpt How do I change my billing address?")
    assert question["type"] == "regular"  # the question stays visible in the channel
    hook = world.state.hook_calls[-1]
    assert hook["status"] == 200 and hook["elapsed_ms"] < 500  # LLM still "thinking" (0.8 s)

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
    wait_for(lambda: world.state.events[-1]["type"] == "ai_indicator.clear", 5)
    states = [
        e.get("ai_state") or e["type"]
        for e in world.state.events
        if e["type"].startswith("ai_indicator")
    ]
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


def test_answers_longer_than_the_channel_limit_continue_in_parts(world):
    world.state.update_channel_type("messaging", {"max_message_length": 120})
    question = world.ask("/gpt Tell me everything")
    parts = sorted(world.wait_for_answer(count=4), key=lambda m: m["created_at"])
    assert [p["id"] for p in parts] == [f"gpt-{question['id']}"] + [
        f"gpt-{question['id']}-{n}" for n in range(2, len(parts) + 1)]
    assert all(len(p["text"]) <= 120 for p in parts)
    assert " ".join(p["text"] for p in parts).split() == ANSWER.split()
