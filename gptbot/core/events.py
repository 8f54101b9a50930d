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
    """One usage report, normalised: wholes include their parts, whatever the vendor.

    `input_tokens` counts every prompt token, the cached and cache-write ones included;
    `cached_input_tokens` and `cache_write_tokens` are the parts billed at those rates.
    `output_tokens` counts every generated token, reasoning included; `reasoning_tokens`
    is that part. None means this report does not state the number (billed as 0); it is
    never a guess. `raw` is the vendor's object, for logs only: counts are never
    re-derived from it (a merged raw mixes reports). The new fields come after `raw` so
    `Usage(input, output, raw)` keeps working.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def updated(self, newer: Usage) -> Usage:
        """Combine two reports of the same stream: `newer` wins where it says something.

        Every vendor's repeated reports are running totals, never deltas, so a stated
        number replaces ours even when smaller (Anthropic's message_start output count
        is a placeholder); one left None keeps ours (its message_delta may state only
        the output). Never add two reports of one stream.
        """
        return Usage(
            _newer(self.input_tokens, newer.input_tokens),
            _newer(self.output_tokens, newer.output_tokens),
            {**self.raw, **newer.raw},
            _newer(self.cached_input_tokens, newer.cached_input_tokens),
            _newer(self.cache_write_tokens, newer.cache_write_tokens),
            _newer(self.reasoning_tokens, newer.reasoning_tokens),
        )


def _newer(older: int | None, newer: int | None) -> int | None:
    return older if newer is None else newer


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
