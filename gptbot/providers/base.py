"""The one small interface every LLM provider implements, and the request it receives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from gptbot.accumulate import ToolCall
from gptbot.errors import ConfigError, ProviderError
from gptbot.events import StreamEvent, ToolCallDelta


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is a JSON-schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation.

    role "assistant" may carry the `tool_calls` it made; role "tool" carries one call's
    result in `content`, with the call's id and the tool's name (Gemini and Ollama match
    results by name, the others by id).
    """

    role: str  # "system", "user", "assistant" or "tool"
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


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
