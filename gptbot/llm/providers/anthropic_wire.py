"""Anthropic Messages API: our request → JSON body, stream events → `gptbot.events`.

Every event's JSON carries a `type` equal to its SSE event name, so mapping works on
the data alone. Content blocks are routed by `index`: text blocks give TextDelta,
thinking blocks ThinkingDelta, tool_use blocks ToolCallDelta keyed by the block index.
"""

from __future__ import annotations

from typing import Any

from gptbot.core.events import (
    Finish,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall
from gptbot.llm.providers.anthropic_shapes import fast_events
from gptbot.llm.providers.base import arguments_object, system_text
from gptbot.llm.providers.wire_common import (
    count,
    error_event,
    load_object,
    strict_int,
    sub_object,
    total,
    turns_without_system,
    usage_event,
)

DEFAULT_MAX_TOKENS = 1024  # the API requires max_tokens


def map_event(data: str) -> list[StreamEvent]:
    """Map one SSE data payload; raise ValueError if it is not a JSON object."""
    # Typed decoding of the common event costs a fraction of json.loads into dicts; what
    # it does not fit takes the general path, with the same result.
    fast = fast_events(data)
    return map_event_dict(data) if fast is None else fast


def map_event_dict(data: str) -> list[StreamEvent]:
    """The general path of `map_event`: any event, read from `json.loads` dicts."""
    # json.loads also copes with the whitespace padding seen in the wild.
    event = load_object(data, "Anthropic event")
    kind = event.get("type")
    if kind == "content_block_start":
        return _block_start(event)
    if kind == "content_block_delta":
        return _block_delta(event)
    if kind == "message_start":
        message = event.get("message")
        return _usage(message.get("usage") if isinstance(message, dict) else None)
    if kind == "message_delta":
        return _message_delta(event)
    if kind == "error":
        return [_error(event.get("error"))]
    return []  # ping, content_block_stop, message_stop and types added later


def _block_start(event: dict[str, Any]) -> list[StreamEvent]:
    block = event.get("content_block")
    if not isinstance(block, dict):
        return []
    if block.get("type") == "tool_use":
        index = _index(event)
        return [ToolCallDelta(index, block.get("id") or None, block.get("name") or None)]
    text = block.get("text")
    return [TextDelta(text)] if block.get("type") == "text" and text else []


def _block_delta(event: dict[str, Any]) -> list[StreamEvent]:
    delta = event.get("delta")
    if not isinstance(delta, dict):
        return []
    kind = delta.get("type")
    if kind == "text_delta" and delta.get("text"):
        return [TextDelta(str(delta["text"]))]
    if kind == "input_json_delta" and delta.get("partial_json"):
        return [ToolCallDelta(_index(event), arguments=str(delta["partial_json"]))]
    if kind == "thinking_delta" and delta.get("thinking"):
        return [ThinkingDelta(str(delta["thinking"]))]
    return []  # signature_delta (an opaque token, not text), citations_delta …


def _message_delta(event: dict[str, Any]) -> list[StreamEvent]:
    delta = event.get("delta")
    reason = delta.get("stop_reason") if isinstance(delta, dict) else None
    events: list[StreamEvent] = [Finish(str(reason))] if reason else []
    return events + _usage(event.get("usage"), final=True)


def _usage(usage: Any, final: bool = False) -> list[StreamEvent]:
    # message_start and message_delta both carry running totals: the accumulator lets the
    # later one win field by field; adding them would count the prompt twice.
    if not isinstance(usage, dict):
        return []
    return [message_usage(usage, final)]


_SUMMED = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
)


def message_usage(raw: dict[str, Any], final: bool = False) -> Usage:
    """Normalise `message_start.message.usage`, or `message_delta.usage` when `final`.

    Anthropic's `input_tokens` is only the uncached rest of the prompt: the whole is it
    plus the cache reads plus the cache writes. A delta that states no input side (the
    older API) leaves those None, so message_start's numbers stay.
    """
    counts = _iterations_total(raw) or raw
    fresh, read, written = (count(counts.get(key)) for key in _SUMMED[:3])
    whole = total(fresh, read, written)
    if final and whole is not None:
        # The delta restates the whole input side, so a cache count it leaves out is 0:
        # keeping message_start's could leave a part larger than its new whole.
        read, written = read or 0, written or 0
    output = count(counts.get("output_tokens"))
    thinking = count(sub_object(raw, "output_tokens_details").get("thinking_tokens"))
    return usage_event(raw, whole, output, cached=read, cache_write=written, reasoning=thinking)


def _iterations_total(raw: dict[str, Any]) -> dict[str, int] | None:
    """With `iterations` (compaction, advisor) the top-level counts describe only the last
    message iteration, but every iteration is billed: sum them. An `advisor_message` is
    another model's call at its own rates, so it is not part of this model's bill."""
    iterations = raw.get("iterations")
    if not isinstance(iterations, list) or not iterations:
        return None
    own = [i for i in iterations if isinstance(i, dict) and i.get("type") != "advisor_message"]
    return {key: sum(count(i.get(key)) or 0 for i in own) for key in _SUMMED}


def _error(error: Any) -> StreamError:
    return error_event(error, "Anthropic reported an error", lambda e: e.get("type") or None)


def _index(event: dict[str, Any]) -> int:
    return strict_int(event.get("index")) or 0


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": messages_json(request.messages),
        "stream": True,
    }
    system = system_text(request)
    if system:
        body["system"] = system
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    return {**body, **request.extra}


def messages_json(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """Conversation without system messages; the results of one round's tool calls must
    all sit in the single user message that follows the assistant's tool_use blocks."""
    return turns_without_system(messages, _message_json, _append_tool_result)


def _message_json(message: ChatMessage) -> dict[str, Any]:
    if message.tool_calls:
        return {"role": "assistant", "content": _assistant_blocks(message)}
    return {"role": message.role, "content": message.content}


def _append_tool_result(out: list[dict[str, Any]], message: ChatMessage) -> None:
    block = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
    last = out[-1] if out else None
    if last and last["role"] == "user" and isinstance(last["content"], list):
        last["content"].append(block)
    else:
        out.append({"role": "user", "content": [block]})


def _assistant_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    return blocks + [_tool_use(call) for call in message.tool_calls]


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": call.id,
        "name": call.name,
        "input": arguments_object(call.arguments),
    }
