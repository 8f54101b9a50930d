"""Graceful shutdown of a real `gptbot worker`: SIGTERM lets running answers finish for
GPTBOT_SHUTDOWN_GRACE_S, then hands the rest back to the queue for another worker."""

from __future__ import annotations

import signal

import pytest

from tests.jobs.workers import deployment, slow_llm, wait_until

ANSWER = "A long and careful answer, written one word at a time, slowly. " * 2


@pytest.mark.slow
def test_sigterm_hands_an_unfinished_answer_to_the_next_worker(tmp_path):
    llm = slow_llm(ANSWER, seconds=4)
    with deployment(tmp_path, llm, GPTBOT_SHUTDOWN_GRACE_S="1") as bot:
        first = bot.start_worker()
        reply = bot.ask("Tell me slowly")
        wait_until(lambda: bot.shown(reply), 20, "the answer to be under way", bot)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        record = bot.services.stores.jobs.job(f"msg:{reply.removeprefix('gpt-')}")
        assert (record.state, record.reason) == (
            "queued", "attempt 1: handed back by a worker shutting down")
        assert not bot.finished([reply])
        bot.start_worker()
        wait_until(lambda: bot.finished([reply]), 30, "the second worker's answer", bot)
        assert bot.text(reply) == ANSWER.strip()
        assert bot.bot_message_ids() == [reply]  # one reply, written to the end once
        assert len(llm.requests) == 2
        jobs = bot.services.stores.jobs
        wait_until(lambda: jobs.job(record.key).state == "done", 5, "the job to end", bot)
        assert jobs.job(record.key).attempts == 2


@pytest.mark.slow
def test_sigterm_lets_an_answer_finish_within_the_grace(tmp_path):
    llm = slow_llm(ANSWER, seconds=3)
    with deployment(tmp_path, llm, GPTBOT_SHUTDOWN_GRACE_S="20") as bot:
        worker = bot.start_worker()
        reply = bot.ask("Tell me slowly")
        wait_until(lambda: bot.shown(reply), 20, "the answer to be under way", bot)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=25) == 0
        assert bot.finished([reply]) and bot.text(reply) == ANSWER.strip()
        assert len(llm.requests) == 1
