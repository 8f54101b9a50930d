"""Stopping an answer mid-stream: `/gpt stop`, or a client's `ai_indicator.stop` event.

The web side only records a stop request in the Store (it has 1 s and no handle on the
worker); the running job looks at the Store at most once per update interval, between
two pieces of text, and ends the answer there with the text written so far.
"""

from __future__ import annotations

from collections.abc import Callable

from gptbot.core.errors import GptBotError
from gptbot.llm.generation import TextSink

STOPPED_NOTE = "Stopped."


class StopRequested(GptBotError):
    """Someone asked to stop this answer; not a failure."""


class StoppableSink:
    """Passes text to the reply, keeps all of it, and raises StopRequested when asked to."""

    def __init__(
        self,
        sink: TextSink,
        stop_requested: Callable[[], bool],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.sink = sink
        self.stop_requested = stop_requested
        self.interval = interval
        self.clock = clock
        self.text = ""  # the whole answer, across reply parts
        self.last_check = clock()

    def check(self) -> None:
        self.last_check = self.clock()
        if self.stop_requested():
            raise StopRequested("stop requested")

    def add(self, delta: str) -> None:
        if self.clock() - self.last_check >= self.interval:
            self.check()
        self.text += delta
        self.sink.add(delta)

    def set_state(self, state: str, message: str = "") -> None:
        self.sink.set_state(state, message)
