"""The fast path of `ollama_wire.map_line`: a line carrying message content or thinking
(or /api/generate's `response`), decoded by msgspec into typed Structs in one pass.

Fields are typed as narrowly as the general dict path reads them, so a line that fits
gives exactly that path's events; the rest (the done line with its counts, tool calls,
errors, values of odd types) does not fit and is left to that path.

Every Struct is left out of the cycle collector (gc=False): decoded JSON is a tree, so
none can be part of a cycle, and each chunk makes several of them.
"""

from __future__ import annotations

import msgspec

from gptbot.core.events import StreamEvent, TextDelta, ThinkingDelta
from gptbot.llm.providers.wire_common import decode_shape


class _Message(msgspec.Struct, gc=False):
    content: str | None = None
    thinking: str | None = None
    tool_calls: None = None  # whole calls with argument objects: the dict path


class _Line(msgspec.Struct, gc=False):
    message: _Message | None = None
    response: str | None = None
    done: bool | None = None
    error: None = None


_DECODER = msgspec.json.Decoder(_Line)


def fast_events(line: str) -> list[StreamEvent] | None:
    """The events of a content line, or None when `line` is not one."""
    chunk = decode_shape(_DECODER, line)
    if chunk is None or chunk.done:
        return None  # the done line's counts ride along raw: the dict path reads them
    # text_deltas' rule spelled out (non-empty strings, thinking first): this runs for
    # every token, and the types are already checked.
    events: list[StreamEvent] = []
    message = chunk.message
    if message is not None and message.thinking:
        events.append(ThinkingDelta(message.thinking))
    if message is not None and message.content:
        events.append(TextDelta(message.content))
    if chunk.response:  # /api/generate
        events.append(TextDelta(chunk.response))
    return events
