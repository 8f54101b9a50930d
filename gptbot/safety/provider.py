"""Every request redacted before it leaves for a provider.

Duck-typed over the provider interface (`.name`, `.stream(request)`): this package sits
below `llm` in the layers, so it cannot import `llm.providers.Provider`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from gptbot.core.events import StreamEvent
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.safety.redact import Placeholders, Redactor


class _Provider(Protocol):
    name: str

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]: ...


def redacted_request(request: ChatRequest, redactor: Redactor) -> ChatRequest:
    """Every message's content and tool-call arguments, numbered by one `Placeholders`.

    All texts are scanned for existing placeholders first, so a value in the system
    prompt cannot take `[EMAIL_1]` when a remembered turn already uses it."""
    if not redactor.enabled:
        return request
    names = Placeholders()
    for message in request.messages:
        names.reserve(message.content)
        for call in message.tool_calls:
            names.reserve(call.arguments)
    messages = tuple(_redacted(message, redactor, names) for message in request.messages)
    return replace(request, messages=messages)


def _redacted(message: ChatMessage, redactor: Redactor, names: Placeholders) -> ChatMessage:
    # Placeholders hold no quote or backslash, so JSON arguments stay JSON.
    calls = tuple(replace(call, arguments=redactor.redact(call.arguments, names))
                  for call in message.tool_calls)
    return replace(message, content=redactor.redact(message.content, names), tool_calls=calls)


class RedactingProvider:
    def __init__(self, inner: _Provider, redactor: Redactor) -> None:
        self.inner = inner
        self.name = inner.name
        self.redactor = redactor

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        return self.inner.stream(redacted_request(request, self.redactor))
