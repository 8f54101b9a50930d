"""The fast path of `gemini_wire.map_chunk`: a response whose first candidate carries
text, thought or functionCall parts and a finish reason, plus the usageMetadata
snapshot every chunk repeats, decoded by msgspec into typed Structs in one pass.

Fields are typed as narrowly as the general dict path reads them, so a chunk that fits
gives exactly that path's events; the rest (errors, blocked prompts, values of odd
types) does not fit and is left to that path.

Every Struct is left out of the cycle collector (gc=False): decoded JSON is a tree, so
none can be part of a cycle, and each chunk makes several of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from gptbot.core.events import (
    Finish,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.llm.providers.wire_common import NULL, decode_shape, raw_object, whole_arguments


class _Call(msgspec.Struct, gc=False):
    id: str | None = None
    name: str | None = None
    args: msgspec.Raw = NULL  # an object, sent on as JSON text: json.loads reads it


class _Part(msgspec.Struct, gc=False):
    text: str | None = None
    thought: bool | None = None
    functionCall: _Call | None = None
    thoughtSignature: str | None = None


class _Content(msgspec.Struct, gc=False):
    parts: list[_Part] | None = None


class _Candidate(msgspec.Struct, gc=False):
    index: int | None = 0  # null: not candidate 0, as in the dict path
    content: _Content | None = None
    finishReason: str | None = None


# usageMetadata rides along in Usage.raw, so it must be the very dict json.loads gives:
# counts, strings (trafficType), nulls and lists of detail objects decode exactly alike;
# floats, bools and deeper nesting are left to the dict path.
_Scalar = int | str | None
_UsageMetadata = dict[str, _Scalar | list[dict[str, _Scalar]]]


class _Chunk(msgspec.Struct, gc=False):
    candidates: list[_Candidate] | None = None
    error: None = None
    promptFeedback: None = None  # a blocked prompt: the dict path
    usageMetadata: _UsageMetadata | None = None


_DECODER = msgspec.json.Decoder(_Chunk)


def fast_events(
    data: str, usage_metadata: Callable[[dict[str, Any]], Usage]
) -> list[StreamEvent] | None:
    """The events of a common chunk, or None when `data` is not one. `usage_metadata` is
    gemini_wire's normaliser, passed in because that module imports this one."""
    chunk = decode_shape(_DECODER, data)
    if chunk is None:
        return None
    events = _candidate_events(_choice_zero(chunk.candidates or []))
    if chunk.usageMetadata is not None:
        events.append(usage_metadata(chunk.usageMetadata))
    return events


def _choice_zero(candidates: list[_Candidate]) -> _Candidate | None:
    # With several alternatives they interleave, so position says nothing.
    return next((candidate for candidate in candidates if candidate.index == 0), None)


def _candidate_events(candidate: _Candidate | None) -> list[StreamEvent]:
    if candidate is None:
        return []  # no promptFeedback here, so nothing was blocked
    parts = candidate.content.parts if candidate.content else None
    events = [_part_event(part, n) for n, part in enumerate(parts or [])]
    found: list[StreamEvent] = [event for event in events if event is not None]
    if candidate.finishReason:
        found.append(Finish(candidate.finishReason))
    return found


def _part_event(part: _Part, position: int) -> StreamEvent | None:
    call = part.functionCall
    if call is not None:
        arguments = whole_arguments(raw_object(call.args))
        return ToolCallDelta(
            position, call.id or None, call.name or None, arguments, part.thoughtSignature or None
        )
    if not part.text:
        return None
    return ThinkingDelta(part.text) if part.thought else TextDelta(part.text)
