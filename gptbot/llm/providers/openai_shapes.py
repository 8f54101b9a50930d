"""The fast path of `openai_wire.map_chat_chunk`: the chunk shapes nearly every stream
is made of (content, reasoning and refusal deltas, tool-call fragments, finish reasons),
decoded by msgspec into typed Structs in one pass, skipping ids, models and extensions.

Each field is typed as narrowly as the general dict path reads it, so a chunk that fits
gives exactly the events that path gives; anything else (usage, errors, the legacy
`function_call`, a value of an odd type) does not fit and is left to that path.

Every Struct is left out of the cycle collector (gc=False): decoded JSON is a tree, so
none can be part of a cycle, and each chunk makes several of them.
"""

from __future__ import annotations

import msgspec

from gptbot.core.events import Finish, StreamEvent, TextDelta, ToolCallDelta
from gptbot.llm.providers.wire_common import decode_shape, text_deltas


class _Function(msgspec.Struct, gc=False):
    name: str | None = None
    arguments: str | None = None  # an object (a few servers) needs the dict path


class _ToolCall(msgspec.Struct, gc=False):
    index: int | None = None  # bool is rejected: the dict path would keep True as index
    id: str | None = None
    function: _Function | None = None


class _Delta(msgspec.Struct, gc=False):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: list[_ToolCall] | None = None
    function_call: None = None


class _Choice(msgspec.Struct, gc=False):
    index: int | None = 0  # null: not choice 0, as in the dict path
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Groq(msgspec.Struct, gc=False):
    usage: None = None


class _Chunk(msgspec.Struct, gc=False):
    choices: list[_Choice] | None  # required: without it a bare error object is possible
    error: None = None
    usage: None = None  # one chunk per stream, kept raw by the dict path
    x_groq: _Groq | None = None


_DECODER = msgspec.json.Decoder(_Chunk)


def fast_chat_events(data: str) -> list[StreamEvent] | None:
    """The events of a common chunk, or None when `data` is not one."""
    chunk = decode_shape(_DECODER, data)
    if chunk is None:
        return None
    for choice in chunk.choices or []:
        if choice.index == 0:  # with n>1 only choice 0 is the answer
            return _choice_events(choice)
    return []


def _choice_events(choice: _Choice) -> list[StreamEvent]:
    delta = choice.delta
    events = [] if delta is None else _delta_events(delta)
    if choice.finish_reason:
        events.append(Finish(choice.finish_reason))
    return events


def _delta_events(delta: _Delta) -> list[StreamEvent]:
    text = delta.content
    if delta.reasoning_content is None and delta.reasoning is None and delta.refusal is None:
        events: list[StreamEvent] = [TextDelta(text)] if text else []  # the common chunk
    else:
        events = text_deltas(delta.reasoning_content or delta.reasoning, text, delta.refusal)
    if delta.tool_calls:
        events += [_tool_call(call, n) for n, call in enumerate(delta.tool_calls)]
    return events


def _tool_call(call: _ToolCall, position: int) -> ToolCallDelta:
    function = call.function or _Function()
    return ToolCallDelta(
        position if call.index is None else call.index,
        call.id or None,
        function.name or None,  # LM Studio repeats "" on later fragments
        function.arguments or "",
    )
