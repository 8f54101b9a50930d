"""The issue's proof: 50 simultaneous slow answers against an emulator that enforces a limit
of 300 message writes a minute. Every answer ends with its exact text, no 429 reaches a
reader, and the emulator accepted no more than the limit in any minute.

A real run (webhooks, huey worker threads, the SQLite store, HTTP to the emulator and the
LLM) on a fast clock: the emulator's windows and the bot's budget share one clock that runs
twenty times real time, so an emulated minute passes in 3 s. The answers stream in real time.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from gptbot.config import CostLimits
from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.services import build_services
from gptbot.store import open_stores
from gptbot.stream.api import StreamApi
from tests.support.common import API_KEY, API_SECRET, make_config, sse_chat_stream
from tests.support.loop import chunks, running_bot, wait_for
from tests.support.servers import FakeLLM, serve_llm

ANSWERS = 50
LIMIT = 300  # message writes per emulated minute, on both sides
EVENT_LIMIT = 1000
ANSWER = "A slow answer, streamed a few characters at a time, with Ünïcödé ✓. " * 4


class FastClock:
    """Unix seconds running `scale` times faster than real time, from a minute boundary."""

    def __init__(self, scale: float, start: float = 60.0 * 29_000_000) -> None:
        self.scale = scale
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.began) * self.scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / self.scale)


def test_fifty_answers_share_the_write_budget(tmp_path):
    began = time.monotonic()
    clock = FastClock(scale=20.0)
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET, clock=clock,
                          rate_limits={"messages": LIMIT, "events": EVENT_LIMIT})
    # ~33 pieces of SSE, 0.15 s apart: each answer grows for about 5 s, a new piece of text
    # every 0.15 s, so 50 of them would flush ~330 times a second; the budget allows 100.
    llm = FakeLLM(sse_chat_stream(chunks(ANSWER, 6)), piece_sizes=(150, 300), delay=0.15,
                  first_delay=0.3)
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(tmp_path, stream_chat_url=stream.url,
                             openai_base_url=llm_server.url + "/v1", update_interval=0.05,
                             stream_writes_per_min=LIMIT, stream_events_per_min=EVENT_LIMIT,
                             limits=CostLimits(user_daily=0))
        stores = open_stores(config.database_url)
        api = StreamApi.from_config(config, limits=stores.limits, clock=clock, sleep=clock.sleep)
        services = build_services(config, stores=stores, stream=api)
        with running_bot(config, services, None, workers=ANSWERS):
            with ThreadPoolExecutor(10) as pool:  # the questions arrive together
                list(pool.map(lambda i: ask(state, i), range(ANSWERS)))
            wait_for(lambda: len(finished(state)) == ANSWERS, 30, "every answer")
            wait_for(lambda: cleared(state) == ANSWERS, 10, "every indicator cleared")
    assert api.budget is not None
    counters, limiter = api.budget.counters, state.rate_limiter
    report = (f"{counters}; windows={limiter.windows('messages')}; "
              f"wall={time.monotonic() - began:.1f}s")
    print(report)
    assert [m["text"] for m in finished(state)] == [ANSWER.rstrip()] * ANSWERS, report
    assert all(w.accepted <= LIMIT for w in limiter.windows("messages")), report
    assert all(w.accepted <= EVENT_LIMIT for w in limiter.windows("events")), report
    # The budget never lets a minute go past the limit, so Stream had nothing to refuse.
    assert limiter.refused("messages") == limiter.refused("events") == 0, report
    assert counters.rate_limited == 0, report
    assert counters.writes_sent == limiter.accepted("messages"), report
    # The demand was several times the limit: the overload cost intermediate updates, not text.
    assert counters.updates_skipped > 2 * LIMIT, report


def ask(state: EmulatorState, i: int) -> None:
    # A channel each: within one conversation the answers would come one after the other.
    send_user_message(state, "messaging", f"room{i}", {"id": f"user{i}"}, f"/gpt question {i}")


def finished(state: EmulatorState) -> list[dict]:
    return [m for m in state.messages.values()
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")]


def cleared(state: EmulatorState) -> int:
    return sum(1 for e in state.events if e["type"] == "ai_indicator.clear")
