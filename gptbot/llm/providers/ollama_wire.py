"""Ollama native `/api/chat`: our request → JSON body, each NDJSON line → `gptbot.events`.

Lines carry `message.content` (or `response` on /api/generate), `message.thinking`,
whole `message.tool_calls` with argument *objects*, and a last line with `done: true`,
`done_reason` and eval counts. A mid-stream failure is a line `{"error": "..."}` with
no done line after it.
"""

from __future__ import annotations

from typing import Any

from gptbot.core.events import (
    Finish,
    StreamError,
    StreamEvent,
    Usage,
)
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall
from gptbot.llm.providers.base import arguments_object
from gptbot.llm.providers.ollama_shapes import fast_events
from gptbot.llm.providers.openai_wire import chat_body, function_call_delta  # OpenAI's shapes
from gptbot.llm.providers.wire_common import (
    count,
    load_object,
    text_deltas,
    usage_event,
    whole_arguments,
)

USAGE_FIELDS = (
    "prompt_eval_count",
    "eval_count",
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
)


def map_line(line: str) -> list[StreamEvent]:
    """Map one NDJSON line; raise ValueError if it is not a JSON object.

    Tool calls are numbered by position within this line only; the provider renumbers
    them across the stream (see WholeCallNumbering).
    """
    # Typed decoding of the common line costs a fraction of json.loads into dicts; what
    # it does not fit takes the general path, with the same result.
    fast = fast_events(line)
    return map_line_dict(line) if fast is None else fast


def map_line_dict(line: str) -> list[StreamEvent]:
    """The general path of `map_line`: any line, read from `json.loads` dicts."""
    chunk = load_object(line, "Ollama line")
    if chunk.get("error"):
        return [StreamError(str(chunk["error"]))]
    message = chunk.get("message")
    events = _message_events(message) if isinstance(message, dict) else []
    events += text_deltas(None, chunk.get("response"))  # /api/generate
    if chunk.get("done"):
        events += _done_events(chunk)
    return events


def _message_events(message: dict[str, Any]) -> list[StreamEvent]:
    events = text_deltas(message.get("thinking"), message.get("content"))
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        events += [
            function_call_delta(call, n, _arguments_text)
            for n, call in enumerate(calls)
            if isinstance(call, dict)
        ]
    return events


def _arguments_text(arguments: Any) -> str:
    # Ollama documents an object; a string is taken as already-serialized JSON.
    return arguments if isinstance(arguments, str) else whole_arguments(arguments)


def _done_events(chunk: dict[str, Any]) -> list[StreamEvent]:
    raw = {key: chunk[key] for key in USAGE_FIELDS if key in chunk}
    return [Finish(str(chunk.get("done_reason") or "stop")), done_usage(raw)]


def done_usage(raw: dict[str, Any]) -> Usage:
    """Normalise the done line's counts. prompt_eval_count counts only the prompt tokens
    evaluated this time: after a KV-cache hit it shrinks, and Ollama leaves out a 0, so
    absent means 0 here (the done line is the one complete report). eval_count includes
    any thinking, with no split."""
    return usage_event(raw, count(raw.get("prompt_eval_count")) or 0, count(raw.get("eval_count")))


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    limit = {"options": {"num_predict": request.max_tokens}} if request.max_tokens else {}
    return chat_body(request, message_json, **limit)


def message_json(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "content": message.content, "tool_name": message.name}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [_call_json(call) for call in message.tool_calls]
    return out


def _call_json(call: ToolCall) -> dict[str, Any]:
    return {"function": {"name": call.name, "arguments": arguments_object(call.arguments)}}
