"""Ollama native `/api/chat`: our request → JSON body, each NDJSON line → `gptbot.events`.

Lines carry `message.content` (or `response` on /api/generate), `message.thinking`,
whole `message.tool_calls` with argument *objects*, and a last line with `done: true`,
`done_reason` and eval counts. A mid-stream failure is a line `{"error": "..."}` with
no done line after it.
"""

from __future__ import annotations

import json
from typing import Any

from gptbot.accumulate import ToolCall
from gptbot.events import (
    Finish,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.providers.base import ChatMessage, ChatRequest, arguments_object
from gptbot.providers.openai_wire import tool_json  # Ollama declares tools the same way

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
    chunk = _load(line)
    if chunk.get("error"):
        return [StreamError(str(chunk["error"]))]
    message = chunk.get("message")
    events = _message_events(message) if isinstance(message, dict) else []
    response = chunk.get("response")  # /api/generate
    if response and isinstance(response, str):
        events.append(TextDelta(response))
    if chunk.get("done"):
        events += _done_events(chunk)
    return events


def _load(line: str) -> dict[str, Any]:
    try:
        chunk = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Ollama line is not valid JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(chunk, dict):
        raise ValueError(f"Ollama line is a JSON {type(chunk).__name__}, not an object")
    return chunk


def _message_events(message: dict[str, Any]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    thinking = message.get("thinking")
    if thinking and isinstance(thinking, str):
        events.append(ThinkingDelta(thinking))
    content = message.get("content")
    if content and isinstance(content, str):
        events.append(TextDelta(content))
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        events += [_tool_call(call, n) for n, call in enumerate(calls) if isinstance(call, dict)]
    return events


def _tool_call(call: dict[str, Any], position: int) -> ToolCallDelta:
    function = call.get("function")
    function = function if isinstance(function, dict) else {}
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if isinstance(arguments, dict) else {})
    return ToolCallDelta(position, call.get("id") or None, function.get("name") or None, arguments)


def _done_events(chunk: dict[str, Any]) -> list[StreamEvent]:
    raw = {key: chunk[key] for key in USAGE_FIELDS if key in chunk}
    usage = Usage(_int(chunk.get("prompt_eval_count")), _int(chunk.get("eval_count")), raw)
    return [Finish(str(chunk.get("done_reason") or "stop")), usage]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [message_json(message) for message in request.messages],
        "stream": True,
    }
    if request.max_tokens:
        body["options"] = {"num_predict": request.max_tokens}
    if request.tools:
        body["tools"] = [tool_json(spec) for spec in request.tools]
    return {**body, **request.extra}


def message_json(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "content": message.content, "tool_name": message.name}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [_call_json(call) for call in message.tool_calls]
    return out


def _call_json(call: ToolCall) -> dict[str, Any]:
    return {"function": {"name": call.name, "arguments": arguments_object(call.arguments)}}
