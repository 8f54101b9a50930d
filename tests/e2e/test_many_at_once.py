"""Hundreds of answers at once in one `gptbot worker` (greenlets), and a `kill -9` mid-way:
the next worker finishes every interrupted answer, each reply exactly once, text exact.

Each question is in a channel of its own (answers in one conversation wait for each other),
from a user of its own; Stream's limits are off in the emulator, as for an enterprise app.
"""

from __future__ import annotations

import pytest

from gptbot.emulator import EmulatorState, send_user_message
from tests.jobs.workers import Deployment, deployment, slow_llm, wait_until
from tests.support.common import API_KEY, API_SECRET

ANSWERS = 200
ANSWER = "Two hundred at once, and every one of them finished word for word. " * 2
UNLIMITED = {"GPTBOT_STREAM_WRITES_PER_MIN": "10000000", "GPTBOT_STREAM_EVENTS_PER_MIN":
             "10000000", "GPTBOT_USER_DAILY_LIMIT": "0", "GPTBOT_CHANNEL_DAILY_LIMIT": "0"}


def ask_in_own_channel(bot: Deployment, n: int) -> str:
    message = send_user_message(bot.state, "messaging", f"room-{n}", {"id": f"user-{n}"},
                                f"/gpt Question {n}")
    return f"gpt-{message['id']}"


def timeline_ids(state: EmulatorState) -> list[str]:
    """Every bot message in every channel's timeline (a doubled reply shows twice)."""
    with state._lock:
        timelines = [list(ids) for ids in state._timeline.values()]
    return [i for ids in timelines for i in ids if state.messages[i]["user"]["id"] == "gpt-bot"]


@pytest.mark.slow
def test_200_answers_at_once_survive_a_kill_9_each_exactly_once(tmp_path):
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET,
                          rate_limits={"messages": None, "events": None})
    llm = slow_llm(ANSWER, seconds=6)
    with deployment(tmp_path, llm, state=state, GPTBOT_UPDATE_INTERVAL_MS="1000",
                    GPTBOT_CONCURRENCY="256", GPTBOT_JOB_LEASE_S="5", **UNLIMITED) as bot:
        crashing = bot.start_worker()
        replies = [ask_in_own_channel(bot, n) for n in range(ANSWERS)]
        wait_until(lambda: sum(map(bot.shown, replies)) == ANSWERS, 40,
                   "all 200 answers streaming at once", bot)
        assert not any(bot.finished([r]) for r in replies)  # all of them mid-way together
        crashing.kill()
        crashing.wait()
        bot.start_worker()
        wait_until(lambda: bot.finished(replies), 40, "every reply finished", bot)
        assert [bot.text(r) for r in replies] == [ANSWER.strip()] * ANSWERS
        assert sorted(timeline_ids(state)) == sorted(replies)  # none doubled, none missing
        assert len(llm.requests) == 2 * ANSWERS  # each interrupted answer re-run once


@pytest.mark.slow
def test_at_its_limit_a_worker_leaves_jobs_queued_and_says_they_wait(tmp_path):
    llm = slow_llm(ANSWER, seconds=3)
    with deployment(tmp_path, llm, GPTBOT_CONCURRENCY="1", **UNLIMITED) as bot:
        bot.start_worker()
        first, second = (ask_in_own_channel(bot, n) for n in range(2))
        wait_until(lambda: bot.shown(first), 20, "the first answer under way", bot)
        assert bot.services.queue.pending() == 1  # the second stays queued, for anyone
        wait_until(lambda: any(e.get("message_id") == second and e.get("ai_message")
                               for e in bot.state.events), 10, "the waiting note", bot)
        assert not bot.shown(second)
        wait_until(lambda: bot.finished([first, second]), 30, "both answers", bot)
        assert [bot.text(first), bot.text(second)] == [ANSWER.strip()] * 2
        assert sorted(timeline_ids(bot.state)) == sorted([first, second])  # one message each
