"""Google Gemini `streamGenerateContent?alt=sse`: our request → JSON body, each streamed
GenerateContentResponse → `gptbot.events`.

Every event is a complete response object: text parts (those marked `thought` are
reasoning summaries, not answer text), whole `functionCall` parts, `finishReason`, and
`usageMetadata` running totals. Errors are `{"error": {code, message, status}}` objects.
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
from gptbot.providers.base import (
    ChatMessage,
    ChatRequest,
    ToolSpec,
    arguments_object,
    system_text,
)


def map_chunk(data: str) -> list[StreamEvent]:
    """Map one SSE data payload; raise ValueError if it is not a JSON object.

    Tool calls are numbered by position within this chunk only; the provider renumbers
    them across the stream (see WholeCallNumbering).
    """
    return map_object(_load(data))


def map_body(text: str) -> list[StreamEvent]:
    """A plain JSON body instead of SSE (an error object, or a non-streamed array)."""
    body = _load_any(text)
    chunks = body if isinstance(body, list) else [body]
    return [event for chunk in chunks if isinstance(chunk, dict) for event in map_object(chunk)]


def map_object(chunk: dict[str, Any]) -> list[StreamEvent]:
    if chunk.get("error"):
        return [_error(chunk["error"])]
    candidate = _first_candidate(chunk.get("candidates"))
    events = _candidate_events(candidate) if candidate else _blocked(chunk)
    usage = chunk.get("usageMetadata")
    if isinstance(usage, dict):
        usage_event = Usage(
            _int(usage.get("promptTokenCount")), _int(usage.get("candidatesTokenCount")), usage
        )
        events.append(usage_event)
    return events


def _load_any(data: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Gemini chunk is not valid JSON ({exc.msg} at {exc.pos})") from None


def _load(data: str) -> dict[str, Any]:
    chunk = _load_any(data)
    if not isinstance(chunk, dict):
        raise ValueError(f"Gemini chunk is a JSON {type(chunk).__name__}, not an object")
    return chunk


def _first_candidate(candidates: Any) -> dict[str, Any] | None:
    if not isinstance(candidates, list):
        return None
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("index", 0) == 0:
            return candidate
    return None


def _candidate_events(candidate: dict[str, Any]) -> list[StreamEvent]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    events = [_part_event(part, n) for n, part in enumerate(parts or []) if isinstance(part, dict)]
    found: list[StreamEvent] = [event for event in events if event is not None]
    reason = candidate.get("finishReason")
    if reason:
        found.append(Finish(str(reason)))
    return found


def _part_event(part: dict[str, Any], position: int) -> StreamEvent | None:
    call = part.get("functionCall")
    if isinstance(call, dict):
        args = call.get("args")
        return ToolCallDelta(
            position,
            call.get("id") or None,
            call.get("name") or None,
            json.dumps(args if isinstance(args, dict) else {}),
            part.get("thoughtSignature") or None,
        )
    text = part.get("text")
    if not text or not isinstance(text, str):
        return None
    return ThinkingDelta(text) if part.get("thought") else TextDelta(text)


def _blocked(chunk: dict[str, Any]) -> list[StreamEvent]:
    # A blocked question has no candidates, only promptFeedback.blockReason.
    feedback = chunk.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    return [Finish(str(reason))] if reason else []


def _error(error: Any) -> StreamError:
    if not isinstance(error, dict):
        return StreamError(str(error))
    code = error.get("status") or error.get("code")
    message = error.get("message") or "Gemini reported an error"
    return StreamError(str(message), str(code) if code else None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- request ----------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": contents_json(request.messages)}
    system = system_text(request)
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if request.max_tokens:
        body["generationConfig"] = {"maxOutputTokens": request.max_tokens}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
    return {**body, **request.extra}


def contents_json(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """Gemini's roles are user and model; tool results go back as functionResponse parts
    of one user turn, matched to the calls by name and order."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            _append_result(out, message)
        elif message.role == "assistant":
            out.append({"role": "model", "parts": _model_parts(message)})
        else:
            out.append({"role": "user", "parts": [{"text": message.content}]})
    return out


def _append_result(out: list[dict[str, Any]], message: ChatMessage) -> None:
    part = {"functionResponse": {"name": message.name, "response": {"result": message.content}}}
    last = out[-1] if out else None
    if last and last["role"] == "user" and "functionResponse" in last["parts"][0]:
        last["parts"].append(part)
    else:
        out.append({"role": "user", "parts": [part]})


def _model_parts(message: ChatMessage) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
    parts += [_call_part(call) for call in message.tool_calls]
    return parts or [{"text": ""}]


def _call_part(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {
        "functionCall": {"name": call.name, "args": arguments_object(call.arguments)}
    }
    if call.signature:  # Gemini 3 rejects a function call sent back without its signature
        part["thoughtSignature"] = call.signature
    return part


def _declaration(spec: ToolSpec) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": spec.name, "description": spec.description}
    # Gemini rejects an object schema without properties; a tool without arguments
    # simply has no `parameters`.
    if spec.parameters.get("properties"):
        declaration["parameters"] = spec.parameters
    return declaration
