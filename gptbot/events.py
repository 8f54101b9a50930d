"""The provider-neutral events every LLM stream is mapped onto.

Each provider module turns its own wire events into these; everything downstream
(the reply writer, tool runner, memory) only ever sees this small vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the visible answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """Reasoning text: kept for logs, never shown to channel members."""

    text: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """A piece of a refusal message sent instead of an answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same index belong together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finish:
    """The model stopped; `reason` is the provider's own value (stop, length, tool_calls…)."""

    reason: str


@dataclass(frozen=True, slots=True)
class StreamError:
    """The provider reported an error inside an otherwise successful stream."""

    message: str
    code: str | None = None


StreamEvent = (
    TextDelta | ThinkingDelta | RefusalDelta | ToolCallDelta | Usage | Finish | StreamError
)
