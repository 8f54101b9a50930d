"""The fast path of `anthropic_wire.map_event`: the content-block starts and deltas that
make up most of every stream (text, tool-input JSON, thinking), and the events that map
to nothing, decoded by msgspec into a typed Struct in one pass.

Fields are typed as narrowly as the general dict path reads them, so an event that fits
gives exactly that path's events; the rest (message_start and message_delta with usage,
errors, values of odd types) does not fit and is left to that path.

Every Struct is left out of the cycle collector (gc=False): decoded JSON is a tree, so
none can be part of a cycle, and each chunk makes several of them.
"""

from __future__ import annotations

import msgspec

from gptbot.core.events import StreamEvent, TextDelta, ThinkingDelta, ToolCallDelta
from gptbot.llm.providers.wire_common import decode_shape

# Event types that carry usage or errors: always read by the dict path.
_MAPPED = frozenset({"message_start", "message_delta", "error"})


class _Delta(msgspec.Struct, gc=False):
    type: str | None = None
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None


class _Block(msgspec.Struct, gc=False):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    text: str | None = None


class _Event(msgspec.Struct, gc=False):
    type: str | None = None
    index: int | None = None  # bool is rejected: the dict path reads it as 0
    delta: _Delta | None = None
    content_block: _Block | None = None


_DECODER = msgspec.json.Decoder(_Event)


def fast_events(data: str) -> list[StreamEvent] | None:
    """The events of a content-block start or delta or an ignored event, else None."""
    event = decode_shape(_DECODER, data)
    if event is None or event.type in _MAPPED:
        return None
    if event.type == "content_block_delta" and event.delta is not None:
        return _delta_events(event.delta, event.index or 0)
    if event.type == "content_block_start" and event.content_block is not None:
        return _block_start(event.content_block, event.index or 0)
    return []  # ping, content_block_stop, message_stop and types added later


def _block_start(block: _Block, index: int) -> list[StreamEvent]:
    if block.type == "tool_use":
        return [ToolCallDelta(index, block.id or None, block.name or None)]
    return [TextDelta(block.text)] if block.type == "text" and block.text else []


def _delta_events(delta: _Delta, index: int) -> list[StreamEvent]:
    if delta.type == "text_delta" and delta.text:
        return [TextDelta(delta.text)]
    if delta.type == "input_json_delta" and delta.partial_json:
        return [ToolCallDelta(index, arguments=delta.partial_json)]
    if delta.type == "thinking_delta" and delta.thinking:
        return [ThinkingDelta(delta.thinking)]
    return []  # signature_delta (an opaque token, not text), citations_delta …
