"""OpenAI Chat Completions: our request → JSON body, stream chunks → `gptbot.events`.

Pure mapping of one SSE `data` payload; the same code serves OpenAI, Azure OpenAI and
the OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, Groq, Mistral, DeepSeek,
OpenRouter), so every field is read defensively: `choices` may be empty, values may be
null or absent, and unknown keys (`p`, `obfuscation`, `x_groq`, `timings`…) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gptbot.core.events import (
    Finish,
    StreamError,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.providers.openai_shapes import fast_chat_events
from gptbot.llm.providers.wire_common import (
    choice_zero,
    count,
    error_event,
    first_count,
    load_object,
    sub_object,
    text_deltas,
    usage_event,
)

_DEFAULT_ERROR = "An error occurred during streaming"


def is_done(data: str) -> bool:
    """The `[DONE]` sentinel; a prefix match, like the openai SDK."""
    return data.startswith("[DONE]")


def map_chat_chunk(data: str, event: str = "message") -> list[StreamEvent]:
    """Map one chunk; raise ValueError if `data` is not a JSON object.

    `event` is the SSE event name: llama.cpp sends errors as an "error" event whose
    data is the bare error object (see gptbot.sse), sometimes not even JSON.
    """
    # Typed decoding of the common chunk costs a fraction of json.loads into dicts; what
    # it does not fit ([DONE] included) takes the general path, with the same result.
    fast = None if event == "error" else fast_chat_events(data)
    return map_chat_chunk_dict(data, event) if fast is None else fast


def map_chat_chunk_dict(data: str, event: str = "message") -> list[StreamEvent]:
    """The general path of `map_chat_chunk`: any chunk, read from `json.loads` dicts."""
    if is_done(data):
        return []
    if event == "error":
        return [_error_event(data)]
    chunk = load_object(data, "chat chunk")
    error = _error(chunk)
    if error is not None:
        return [error]
    events: list[StreamEvent] = []
    # With n>1 only choice 0 is the answer; the others are alternatives nobody sees.
    choice = choice_zero(chunk.get("choices"))
    if choice is not None:
        events.extend(_choice_events(choice))
    usage = _usage(chunk)
    if usage is not None:
        events.append(usage)
    return events


def _error_event(data: str) -> StreamError:
    try:
        chunk = load_object(data, "chat chunk")
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
    return error_event(error, _DEFAULT_ERROR, _error_code)


def _error_code(error: dict[str, Any]) -> Any:
    # `code` is often null (OpenAI) or a number (vLLM); `type` then says more than nothing.
    code = error.get("code")
    return error.get("type") if code is None else code


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
    # vLLM has sent the same text as both `reasoning_content` and `reasoning`; use one.
    thinking = delta.get("reasoning_content") or delta.get("reasoning")
    events = text_deltas(thinking, delta.get("content"), delta.get("refusal"))
    return events + _tool_call_events(delta)


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
    index = call.get("index")
    index = index if isinstance(index, int) else position
    return function_call_delta(call, index, _arguments_fragment)


def _arguments_fragment(arguments: Any) -> str:
    if arguments is None:
        return ""
    # A few servers send an object, not a string.
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def function_call_delta(
    call: dict[str, Any], index: int, arguments_text: Callable[[Any], str]
) -> ToolCallDelta:
    """One `{"id", "function": {"name", "arguments"}}` tool call, a shape Ollama shares;
    `arguments_text` turns the raw arguments into the JSON text the accumulator joins."""
    function = call.get("function")
    if not isinstance(function, dict):
        function = {}
    return ToolCallDelta(
        index,
        call.get("id") or None,
        function.get("name") or None,  # LM Studio repeats "" on later fragments
        arguments_text(function.get("arguments")),
    )


def _usage(chunk: dict[str, Any]) -> Usage | None:
    raw = _raw_usage(chunk)
    return None if raw is None else chat_usage(raw)


def _raw_usage(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """`usage` wherever the server puts it, whatever `choices` holds: its own chunk with
    `choices: []` (OpenAI's include_usage), the finish chunk (Mistral, DeepSeek), a chunk
    with non-empty choices (OpenRouter); else Groq's `x_groq.usage`. Groq may send both
    with the same numbers, so one is read and the call is counted once."""
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        return usage
    usage = sub_object(chunk, "x_groq").get("usage")
    return usage if isinstance(usage, dict) else None


def chat_usage(raw: dict[str, Any]) -> Usage:
    """Normalise one Chat Completions usage object (OpenAI, Azure and every compatible
    server). Its wholes already include their parts: prompt_tokens the cached tokens,
    completion_tokens the reasoning tokens, so nothing is added to them."""
    prompt = _prompt_tokens(raw)
    completion = count(raw.get("completion_tokens"))
    reasoning = count(sub_object(raw, "completion_tokens_details").get("reasoning_tokens"))
    if prompt is None:  # a part without its whole would bill tokens we cannot place
        return usage_event(raw, None, completion, reasoning=reasoning)
    details = sub_object(raw, "prompt_tokens_details")
    cached = first_count(
        details.get("cached_tokens"),  # OpenAI, Azure, DeepSeek, OpenRouter, xAI, vLLM
        raw.get("prompt_cache_hit_tokens"),  # DeepSeek's own name for the same number
        raw.get("cached_tokens"),  # Moonshot, the Hugging Face router: top level
    )
    written = count(details.get("cache_write_tokens"))  # OpenRouter (Anthropic upstreams)
    return usage_event(
        raw, prompt, completion, cached=cached, cache_write=written, reasoning=reasoning
    )


def _prompt_tokens(raw: dict[str, Any]) -> int | None:
    prompt = count(raw.get("prompt_tokens"))
    hit = count(raw.get("prompt_cache_hit_tokens"))
    miss = count(raw.get("prompt_cache_miss_tokens"))
    if prompt is None and hit is not None and miss is not None:
        return hit + miss  # DeepSeek: prompt_tokens, when sent, is already this sum
    return prompt


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    limit = {"max_tokens": request.max_tokens} if request.max_tokens else {}
    return chat_body(request, message_json, stream_options={"include_usage": True}, **limit)


def chat_body(
    request: ChatRequest, message_json: Callable[[ChatMessage], dict[str, Any]], **settings: Any
) -> dict[str, Any]:
    """The body Ollama's native API shares with this one: model, messages in the API's
    own shape, the API's `settings`, tools declared as functions; `extra` wins."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [message_json(message) for message in request.messages],
        "stream": True,
        **settings,
    }
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
