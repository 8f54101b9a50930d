"""One model turn: stream a provider's events into a text sink and say how it ended."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from gptbot.errors import ProviderError
from gptbot.events import Finish, RefusalDelta, StreamError, TextDelta, Usage
from gptbot.providers import ChatRequest, Provider

log = logging.getLogger(__name__)

FINISH_NOTES = {
    "length": "The answer was cut short: it reached the model's length limit.",
    "max_tokens": "The answer was cut short: it reached the model's length limit.",
    "content_filter": "Part of this answer was withheld by the content filter.",
}


class TextSink(Protocol):
    """Where the visible answer goes (the reply writer, in production)."""

    def add(self, delta: str) -> None: ...

    def set_state(self, state: str) -> None: ...


@dataclass
class Generation:
    text: str = ""
    refusal: str = ""
    finish_reason: str = ""
    usage: Usage | None = None

    @property
    def note(self) -> str:
        """What to tell the reader about how the answer ended, if anything."""
        return FINISH_NOTES.get(self.finish_reason, "")


def generate(provider: Provider, request: ChatRequest, sink: TextSink) -> Generation:
    result = Generation()
    for event in provider.stream(request):
        if isinstance(event, TextDelta):
            result.text += event.text
            sink.add(event.text)
        elif isinstance(event, RefusalDelta):
            result.refusal += event.text
        elif isinstance(event, Finish):
            result.finish_reason = event.reason
        elif isinstance(event, Usage):
            result.usage = event
        elif isinstance(event, StreamError):
            raise ProviderError(f"error inside the stream: {event.message}")
    if result.refusal and not result.text:
        result.text = result.refusal
        sink.add(result.refusal)
    return result
