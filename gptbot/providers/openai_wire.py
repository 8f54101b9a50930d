"""OpenAI Chat Completions: our request → JSON body, stream chunks → `gptbot.events`.

Pure mapping of one SSE `data` payload; the same code serves OpenAI, Azure OpenAI and
the OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, Groq, Mistral, DeepSeek,
OpenRouter), so every field is read defensively: `choices` may be empty, values may be
null or absent, and unknown keys (`p`, `obfuscation`, `x_groq`, `timings`…) are ignored.
"""

from __future__ import annotations

import json
from typing import Any

from gptbot.accumulate import ToolCall
from gptbot.events import (
    Finish,
    RefusalDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.providers.base import ChatMessage, ChatRequest, ToolSpec

_DEFAULT_ERROR = "An error occurred during streaming"


def is_done(data: str) -> bool:
    """The `[DONE]` sentinel; a prefix match, like the openai SDK."""
    return data.startswith("[DONE]")


def map_chat_chunk(data: str, event: str = "message") -> list[StreamEvent]:
    """Map one chunk; raise ValueError if `data` is not a JSON object.

    `event` is the SSE event name: llama.cpp sends errors as an "error" event whose
    data is the bare error object (see gptbot.sse), sometimes not even JSON.
    """
    if is_done(data):
        return []
    if event == "error":
        return [_error_event(data)]
    chunk = _load(data)
    error = _error(chunk)
    if error is not None:
        return [error]
    events: list[StreamEvent] = []
    choice = _first_choice(chunk.get("choices"))
    if choice is not None:
        events.extend(_choice_events(choice))
    usage = _usage(chunk)
    if usage is not None:
        events.append(usage)
    return events


def _load(data: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"chat chunk is not valid JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(chunk, dict):
        raise ValueError(f"chat chunk is a JSON {type(chunk).__name__}, not an object")
    return chunk


def _error_event(data: str) -> StreamError:
    try:
        chunk = _load(data)
    except ValueError:
        return StreamError(data.strip() or _DEFAULT_ERROR)
    return _error(chunk) or _error_fields(chunk)


def _error(chunk: dict[str, Any]) -> StreamError | None:
    """A mid-stream error: `{"error": {...} | "..."}`, or a bare error object.

    Bare objects: vLLM's `{"object": "error", "message": ...}` and llama.cpp's
    `{"code", "message", "type"}`; a real chunk never has a top-level string `message`.
    """
    error = chunk.get("error")
    if not error:
        bare = chunk.get("object") == "error" or isinstance(chunk.get("message"), str)
        if not bare or "choices" in chunk:
            return None
        error = chunk
    return _error_fields(error)


def _error_fields(error: Any) -> StreamError:
    if not isinstance(error, dict):
        return StreamError(str(error))
    message = error.get("message") or _DEFAULT_ERROR
    # `code` is often null (OpenAI) or a number (vLLM); `type` then says more than nothing.
    code = error.get("code")
    if code is None:
        code = error.get("type")
    return StreamError(str(message), None if code is None else str(code))


def _first_choice(choices: Any) -> dict[str, Any] | None:
    # With n>1 the choices interleave, one per chunk, so pick by `index`, not position.
    if not isinstance(choices, list):
        return None
    for choice in choices:
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            return choice
    return None


def _choice_events(choice: dict[str, Any]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    delta = choice.get("delta")
    if isinstance(delta, dict):
        events.extend(_delta_events(delta))
    reason = choice.get("finish_reason")
    if reason:
        events.append(Finish(str(reason)))
    return events


def _delta_events(delta: dict[str, Any]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    # vLLM has sent the same text as both `reasoning_content` and `reasoning`; use one.
    thinking = delta.get("reasoning_content") or delta.get("reasoning")
    if thinking and isinstance(thinking, str):
        events.append(ThinkingDelta(thinking))
    content = delta.get("content")
    if content and isinstance(content, str):
        events.append(TextDelta(content))
    refusal = delta.get("refusal")
    if refusal and isinstance(refusal, str):
        events.append(RefusalDelta(refusal))
    events.extend(_tool_call_events(delta))
    return events


def _tool_call_events(delta: dict[str, Any]) -> list[StreamEvent]:
    calls = delta.get("tool_calls")
    if isinstance(calls, list):
        return [
            _tool_call(call, position)
            for position, call in enumerate(calls)
            if isinstance(call, dict)
        ]
    legacy = delta.get("function_call")  # deprecated functions API: one call, no index
    if isinstance(legacy, dict):
        return [_tool_call({"function": legacy}, 0)]
    return []


def _tool_call(call: dict[str, Any], position: int) -> ToolCallDelta:
    function = call.get("function")
    if not isinstance(function, dict):
        function = {}
    index = call.get("index")
    arguments = function.get("arguments")
    if arguments is not None and not isinstance(arguments, str):
        arguments = json.dumps(arguments)  # a few servers send an object, not a string
    return ToolCallDelta(
        index=index if isinstance(index, int) else position,
        id=call.get("id") or None,
        name=function.get("name") or None,  # LM Studio repeats "" on later fragments
        arguments=arguments or "",
    )


def _usage(chunk: dict[str, Any]) -> Usage | None:
    usage = chunk.get("usage")
    if not isinstance(usage, dict):
        groq = chunk.get("x_groq")  # Groq puts usage in its own object
        usage = groq.get("usage") if isinstance(groq, dict) else None
        if not isinstance(usage, dict):
            return None
    return Usage(
        input_tokens=_int(usage.get("prompt_tokens")),
        output_tokens=_int(usage.get("completion_tokens")),
        raw=usage,
    )


def _int(value: Any) -> int | None:
    # bool is an int subclass; a token count never is one.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [message_json(message) for message in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.max_tokens:
        body["max_tokens"] = request.max_tokens
    if request.tools:
        body["tools"] = [tool_json(spec) for spec in request.tools]
    return {**body, **request.extra}


def message_json(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [_call_json(call) for call in message.tool_calls],
        }
    return {"role": message.role, "content": message.content}


def _call_json(call: ToolCall) -> dict[str, Any]:
    function = {"name": call.name, "arguments": call.arguments or "{}"}
    return {"id": call.id, "type": "function", "function": function}


def tool_json(spec: ToolSpec) -> dict[str, Any]:
    function = {"name": spec.name, "description": spec.description, "parameters": spec.parameters}
    return {"type": "function", "function": function}
