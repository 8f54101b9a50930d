"""One answer at a time per conversation: a question waits for the answers to the questions
asked before it there, shows "Waiting for the previous answer…" meanwhile, still hears a
stop, and gives up waiting only after its limit; other conversations stay parallel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from gptbot.core.states import THINKING
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.jobs.in_order import WAITING, TurnOrder
from gptbot.jobs.job import AnswerJob
from gptbot.jobs.stop import StoppableSink, StopRequested
from gptbot.services import build_services
from tests.jobs.workers import deployment, slow_llm, wait_until
from tests.support.common import make_config, sse_chat_stream
from tests.support.fakes import FakeClock
from tests.support.loop import chunks, emulator_state, running_bot, wait_for
from tests.support.servers import FakeLLM, serve_llm

FIRST = "The first answer: the invoice is under Settings, then Billing."


def job(n: int, conversation: str = "messaging:general/root-1", at: float = 0.0) -> AnswerJob:
    channel, _, parent = conversation.partition("/")
    return AnswerJob(f"k{n}", f"gpt-{n}", *channel.split(":"), parent or None, "alice",
                     "Alice", f"question {n}", asked_at=at or float(n))


class Recorder:
    """A text sink that records the AI states it is given."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str]] = []

    def add(self, delta: str) -> None:
        pass

    def set_state(self, state: str, message: str = "") -> None:
        self.states.append((state, message))

    def show_step(self, step) -> None:
        pass


class Waiting:
    """A TurnOrder on a fake clock whose sleep runs `each_poll` (the world moving on)."""

    def __init__(self, stores, each_poll=lambda: None, max_wait_s: float = 60.0) -> None:
        self.clock = FakeClock()
        self.polls = 0

        def sleep(seconds: float) -> None:
            self.polls += 1
            self.clock.now += seconds
            each_poll()

        self.order = TurnOrder(stores.turn_order, stores.jobs, max_wait_s, 0.5, self.clock,
                               sleep)


def queued(stores, *jobs: AnswerJob) -> None:
    for each in jobs:
        stores.jobs.claim_job(each.key, each.to_payload(), each.asked_at)
        stores.turn_order.join_turn(each.conversation, each.key, each.asked_at)


def sink_for(recorder: Recorder, stopped=lambda: False) -> StoppableSink:
    return StoppableSink(recorder, stopped, 0.0, time.monotonic)


def test_the_second_question_waits_until_the_first_has_ended(stores):
    first, second = job(1), job(2)
    queued(stores, first, second)
    stores.jobs.start_job("k1", 1.0, 15.0)

    def first_finishes_on_the_third_poll() -> None:
        if waiting.polls == 3:
            stores.jobs.finish_job("k1", 2.0)

    waiting = Waiting(stores, first_finishes_on_the_third_poll)
    recorder = Recorder()
    waiting.order.wait(second, sink_for(recorder))
    assert waiting.polls == 3
    assert recorder.states == [(THINKING, WAITING), (THINKING, "")]
    waiting.order.leave(first)  # ended: it leaves; the second is now first
    assert stores.turn_order.turns_ahead(second.conversation, "k2") == []


def test_other_conversations_and_the_first_question_do_not_wait(stores):
    queued(stores, job(1), job(2, "messaging:general"), job(3, "messaging:random"))
    waiting = Waiting(stores)
    for each in (job(1), job(2, "messaging:general"), job(3, "messaging:random")):
        recorder = Recorder()
        waiting.order.wait(each, sink_for(recorder))
        assert recorder.states == []
    assert waiting.polls == 0


def test_a_job_ahead_that_ended_or_vanished_is_dropped(stores):
    queued(stores, job(1), job(2), job(3))
    stores.jobs.finish_job("k1", 1.5)
    stores.jobs.release_job("k2")  # e.g. refused by a quota after joining
    waiting = Waiting(stores)
    waiting.order.wait(job(3), sink_for(Recorder()))
    assert waiting.polls == 0
    assert stores.turn_order.turns_ahead(job(3).conversation, "k3") == []


def test_a_stop_is_heard_while_waiting(stores):
    queued(stores, job(1), job(2))
    waiting = Waiting(stores)
    with pytest.raises(StopRequested):
        waiting.order.wait(job(2), sink_for(Recorder(), stopped=lambda: waiting.polls >= 2))


def test_waiting_ends_at_its_limit(stores):
    queued(stores, job(1), job(2))
    waiting = Waiting(stores, max_wait_s=5.0)
    waiting.order.wait(job(2), sink_for(Recorder()))
    assert waiting.polls == 10  # 0.5 s polls on the fake clock


def test_a_retried_job_keeps_its_place(stores):
    queued(stores, job(1), job(2))
    stores.jobs.start_job("k1", 1.0, 15.0)
    TurnOrder(stores.turn_order, stores.jobs).leave(job(1))  # still running: stays
    assert stores.turn_order.turns_ahead(job(2).conversation, "k2") == ["k1"]


# -- end to end: the webhook, two worker threads, the emulator ------------------------------


@pytest.fixture
def loop(tmp_path) -> Iterator[tuple[EmulatorState, FakeLLM]]:
    llm = FakeLLM(sse_chat_stream(chunks(FIRST, 4)), piece_sizes=(40, 80), delay=0.02)
    state = emulator_state()
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(tmp_path, stream_chat_url=stream.url,
                             openai_base_url=llm_server.url + "/v1", update_interval=0.05)
        config = replace(config, limits=replace(config.limits, user_daily=0))
        with running_bot(config, build_services(config), None, workers=2):
            yield state, llm


def test_two_questions_in_a_thread_are_answered_in_order(loop) -> None:
    state, llm = loop
    root = send_user_message(state, "messaging", "general", "alice", "Billing questions")
    asked = []
    for question in ("/gpt Where is my invoice?", "/gpt And how do I pay it?"):
        asked.append(send_user_message(state, "messaging", "general", "alice", question,
                                       parent_id=root["id"]))
        time.sleep(0.05)  # 50 ms apart, as two people typing
    wait_for(lambda: len(llm.requests) == 2, timeout=30, what="both model requests")
    second = llm.requests[1]["json"]["messages"]
    assert any(m["role"] == "assistant" and m["content"] == FIRST for m in second)
    waited = [e for e in state.events if e["type"] == "ai_indicator.update"
              and e.get("ai_message") == WAITING]
    assert [(e["ai_state"], e["message_id"]) for e in waited] == \
        [(THINKING, f"gpt-{asked[1]['id']}")]


# -- two worker processes ---------------------------------------------------------------------


@pytest.mark.slow
def test_two_worker_processes_answer_a_thread_in_order(tmp_path) -> None:
    """The webhook in this process, two `gptbot worker` processes on one SQLite store and
    queue: the second question, sent 50 ms after the first, reaches the model with the first
    answer in its memory, whichever process takes it."""
    llm = slow_llm(FIRST, seconds=1.5)
    with deployment(tmp_path, llm, GPTBOT_USER_DAILY_LIMIT="0") as bot:
        bot.start_worker()
        bot.start_worker()
        root = send_user_message(bot.state, "messaging", "general", "alice", "Billing")
        for question in ("/gpt Where is my invoice?", "/gpt And how do I pay it?"):
            send_user_message(bot.state, "messaging", "general", "alice", question,
                              parent_id=root["id"])
            time.sleep(0.05)
        wait_until(lambda: len(llm.requests) == 2, 60, "both model requests", bot)
    second = llm.requests[1]["json"]["messages"]
    assert any(m["role"] == "assistant" and m["content"] == FIRST for m in second)
