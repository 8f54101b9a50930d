"""Collects a stream of provider-neutral events into the final answer.

Provider-neutral on purpose: every provider module emits `gptbot.events`, so one
accumulator serves them all (tests use it to check whole transcripts, the job uses it
to build the reply).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gptbot.core.events import (
    Finish,
    RefusalDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.core.types import ToolCall


def _supersedes(newer: Usage, older: Usage) -> bool:
    """Whether `older.updated(newer)` equals `newer`: it states every count `older` does
    and has every raw key. Gemini repeats a whole snapshot on every chunk, and building
    the merge each time would cost as much as mapping the chunk."""
    return (
        newer.raw.keys() >= older.raw.keys()
        and (newer.input_tokens is not None or older.input_tokens is None)
        and (newer.output_tokens is not None or older.output_tokens is None)
        and (newer.cached_input_tokens is not None or older.cached_input_tokens is None)
        and (newer.cache_write_tokens is not None or older.cache_write_tokens is None)
        and (newer.reasoning_tokens is not None or older.reasoning_tokens is None)
    )


@dataclass(slots=True)
class _ToolCallParts:
    id: str | None = None
    name: str | None = None
    signature: str | None = None
    arguments: list[str] = field(default_factory=list)


class ChatAccumulator:
    """Feed it events with `add`; read text, tool calls, finish reason, usage, error."""

    def __init__(self) -> None:
        # Pieces are kept in lists and joined on read: `+=` on a growing str is quadratic.
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._refusal: list[str] = []
        self._calls: dict[int, _ToolCallParts] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.error: StreamError | None = None

    def add(self, event: StreamEvent) -> None:
        match event:
            case TextDelta(text):
                self._text.append(text)
            case ThinkingDelta(text):
                self._thinking.append(text)
            case RefusalDelta(text):
                self._refusal.append(text)
            case ToolCallDelta():
                self._add_tool_call(event)
            case Finish(reason):
                # Only real reasons arrive here, so a later chunk with a null
                # finish_reason (OpenRouter's usage chunk) can never erase it.
                self.finish_reason = reason
            case Usage():
                # Repeated reports are running totals; partial ones complete each other.
                old = self.usage
                self.usage = event if old is None or _supersedes(event, old) else old.updated(event)
            case StreamError():
                if self.error is None:  # the first error is the cause, later ones echo it
                    self.error = event

    def add_all(self, events: Iterable[StreamEvent]) -> None:
        text = self._text
        for event in events:
            # Most events of every answer are text: skip the match (and a call) for them.
            if type(event) is TextDelta:
                text.append(event.text)
            else:
                self.add(event)

    def _add_tool_call(self, delta: ToolCallDelta) -> None:
        parts = self._calls.setdefault(delta.index, _ToolCallParts())
        # id and name come once, in the first fragment; some servers (LM Studio) repeat
        # them empty or again later, so keep the first non-empty value.
        parts.id = parts.id or delta.id or None
        parts.name = parts.name or delta.name or None
        parts.signature = parts.signature or delta.signature
        if delta.arguments:
            parts.arguments.append(delta.arguments)

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    @property
    def refusal(self) -> str:
        return "".join(self._refusal)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Calls in index order, which is the order the model made them."""
        return [
            ToolCall(index, parts.id, parts.name, "".join(parts.arguments), parts.signature)
            for index, parts in sorted(self._calls.items())
        ]
