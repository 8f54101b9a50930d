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
    # Opaque token the provider wants back with the call in the next request
    # (Gemini's thoughtSignature); None for everyone else.
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def updated(self, newer: Usage) -> Usage:
        """Combine two reports of the same stream: `newer` wins where it says something.

        Anthropic reports input tokens at the start and output tokens at the end.
        """
        return Usage(
            newer.input_tokens if newer.input_tokens is not None else self.input_tokens,
            newer.output_tokens if newer.output_tokens is not None else self.output_tokens,
            {**self.raw, **newer.raw},
        )


@dataclass(frozen=True, slots=True)
class Finish:
    """The model stopped; `reason` is the provider's own value (stop, length, tool_calls…)."""

    reason: str


@dataclass(frozen=True, slots=True)
class StreamError:
    """The provider reported an error inside an otherwise successful stream."""

    message: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """A note for the people waiting, e.g. their place in a local model's queue."""

    text: str


StreamEvent = (
    TextDelta | ThinkingDelta | RefusalDelta | ToolCallDelta | Usage | Finish | StreamError | Status
)
