"""Stopping an answer mid-stream: `/gpt stop`, or a client's `ai_indicator.stop` event.

The web side only records a stop request in the Store (it has 1 s and no handle on the
worker); the running job looks at the Store at most once per update interval, between
two pieces of text, and ends the answer there with the text written so far.

The same sink ends an attempt that lost its job (`JobCancelled`: the worker is shutting down
and handed it back, or its lease went to another attempt) at the very next piece of text,
without writing anything more: the job's next attempt writes the reply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gptbot.conversation.memory import conversation_key
from gptbot.core.errors import GptBotError
from gptbot.core.steps import Step
from gptbot.llm.generation import TextSink
from gptbot.store import JobStore
from gptbot.stream.reply import REPLY_PREFIX

STOPPED_NOTE = "Stopped."


class StopRequested(GptBotError):
    """Someone asked to stop this answer; not a failure."""


class JobCancelled(Exception):
    """This attempt no longer owns its job (handed back at shutdown, or its lease lost):
    stop at once and write nothing more."""


class StoppableSink:
    """Passes text to the reply, keeps all of it, and raises StopRequested when asked to."""

    def __init__(
        self,
        sink: TextSink,
        stop_requested: Callable[[], bool],
        interval: float,
        clock: Callable[[], float],
        cancelled: threading.Event | None = None,
    ) -> None:
        self.sink = sink
        self.stop_requested = stop_requested
        self.interval = interval
        self.clock = clock
        self.cancelled = cancelled or threading.Event()
        self.text = ""  # the whole answer, across reply parts
        self.last_check = clock()

    def check(self) -> None:
        self._check_cancelled()
        self.last_check = self.clock()
        if self.stop_requested():
            raise StopRequested("stop requested")

    def add(self, delta: str) -> None:
        self._check_cancelled()
        if self.clock() - self.last_check >= self.interval:
            self.check()
        self.text += delta
        self.sink.add(delta)

    def _check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled("cancelled")

    def set_state(self, state: str, message: str = "") -> None:
        self.sink.set_state(state, message)

    def show_step(self, step: Step) -> None:
        self._check_cancelled()
        self.sink.show_step(step)


def record_stop(store: JobStore, cid: str, parent_id: str | None = None,
                message_id: str | None = None) -> bool:
    """A Stop for the channel (or its thread), however it came: the event hook or the bot's
    WebSocket. False for a Stop aimed at another bot's message."""
    if message_id and not message_id.startswith(REPLY_PREFIX):
        return False
    store.request_stop(conversation_key(cid, parent_id), time.time())
    return True
