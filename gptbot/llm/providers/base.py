"""The one small interface every LLM provider implements, and the request it receives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from gptbot.core.errors import ConfigError, ProviderError
from gptbot.core.events import StreamEvent, ToolCallDelta
from gptbot.core.types import ChatRequest


class Provider(Protocol):
    name: str

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Yield events as the model produces them; raise ProviderError when it cannot."""


def system_text(request: ChatRequest) -> str:
    """All system messages as one text, for APIs that take the system prompt separately."""
    return "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)


def arguments_object(raw: str) -> dict[str, Any]:
    """A call's streamed arguments as an object, for APIs that want one back.

    A call cut off by the length limit has invalid JSON; an empty object keeps the
    conversation well-formed, and the tool result already said the arguments were bad.
    """
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def checked(mapper: Callable[..., list[StreamEvent]], *args: Any) -> list[StreamEvent]:
    """Run a wire mapper; a chunk it cannot read ends the answer as a provider error."""
    try:
        return mapper(*args)
    except ValueError as exc:
        raise ProviderError(f"unreadable stream chunk: {exc}") from exc


def required(value: str | None, variable: str) -> str:
    """A setting the chosen provider cannot work without."""
    if not value:
        raise ConfigError(f"{variable} is not set: add it to the environment or to .env")
    return value


class WholeCallNumbering:
    """Gemini and Ollama send each tool call whole, with no stream-wide index (or only
    sometimes): give every call the next number so the accumulator keeps them apart."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, events: list[StreamEvent]) -> list[StreamEvent]:
        return [self._number(event) for event in events]

    def _number(self, event: StreamEvent) -> StreamEvent:
        if not isinstance(event, ToolCallDelta):
            return event
        self.count += 1
        return replace(event, index=self.count - 1)
