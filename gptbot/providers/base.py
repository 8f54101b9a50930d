"""The one small interface every LLM provider implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from gptbot.events import StreamEvent


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    name: str

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """Yield events as the model produces them; raise ProviderError when it cannot."""
