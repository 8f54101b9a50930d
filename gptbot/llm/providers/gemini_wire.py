"""Google Gemini `streamGenerateContent?alt=sse`: our request → JSON body, each streamed
GenerateContentResponse → `gptbot.events`.

Every event is a complete response object: text parts (those marked `thought` are
reasoning summaries, not answer text), whole `functionCall` parts, `finishReason`, and
`usageMetadata` running totals. Errors are `{"error": {code, message, status}}` objects.
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
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.providers.base import arguments_object, system_text
from gptbot.llm.providers.gemini_shapes import fast_events
from gptbot.llm.providers.wire_common import (
    choice_zero,
    count,
    error_event,
    load_json,
    load_object,
    total,
    turns_without_system,
    usage_event,
    whole_arguments,
)


def map_chunk(data: str) -> list[StreamEvent]:
    """Map one SSE data payload; raise ValueError if it is not a JSON object.

    Tool calls are numbered by position within this chunk only; the provider renumbers
    them across the stream (see WholeCallNumbering).
    """
    # Typed decoding of the common chunk costs a fraction of json.loads into dicts; what
    # it does not fit takes the general path, with the same result.
    fast = fast_events(data, usage_metadata)
    return map_chunk_dict(data) if fast is None else fast


def map_chunk_dict(data: str) -> list[StreamEvent]:
    """The general path of `map_chunk`: any chunk, read from `json.loads` dicts."""
    return map_object(load_object(data, "Gemini chunk"))


def map_body(text: str) -> list[StreamEvent]:
    """A plain JSON body instead of SSE (an error object, or a non-streamed array)."""
    body = load_json(text, "Gemini chunk")
    chunks = body if isinstance(body, list) else [body]
    return [event for chunk in chunks if isinstance(chunk, dict) for event in map_object(chunk)]


def map_object(chunk: dict[str, Any]) -> list[StreamEvent]:
    if chunk.get("error"):
        return [_error(chunk["error"])]
    candidate = choice_zero(chunk.get("candidates"))
    events = _candidate_events(candidate) if candidate else _blocked(chunk)
    usage = chunk.get("usageMetadata")
    if isinstance(usage, dict):
        events.append(usage_metadata(usage))
    return events


def usage_metadata(raw: dict[str, Any]) -> Usage:
    """Normalise one `usageMetadata`, a running snapshot repeated on every chunk.

    promptTokenCount already includes cachedContentTokenCount; toolUsePromptTokenCount
    (what built-in tools fetched) is prompt input outside it; thoughtsTokenCount is
    billed as output but is not in candidatesTokenCount. So input + output is
    totalTokenCount. Zeros are left out (thought-only snapshots have no
    candidatesTokenCount), hence sums of whatever is stated.
    """
    thoughts = count(raw.get("thoughtsTokenCount"))
    return usage_event(
        raw,
        total(count(raw.get("promptTokenCount")), count(raw.get("toolUsePromptTokenCount"))),
        total(count(raw.get("candidatesTokenCount")), thoughts),
        cached=count(raw.get("cachedContentTokenCount")),
        reasoning=thoughts,
    )


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
        return ToolCallDelta(
            position,
            call.get("id") or None,
            call.get("name") or None,
            whole_arguments(call.get("args")),
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
    return error_event(error, "Gemini reported an error", _error_code)


def _error_code(error: dict[str, Any]) -> Any:
    # `status` ("RESOURCE_EXHAUSTED") says more than the HTTP-like `code` (429).
    return error.get("status") or error.get("code") or None


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
    return turns_without_system(messages, _content_json, _append_result)


def _content_json(message: ChatMessage) -> dict[str, Any]:
    if message.role == "assistant":
        return {"role": "model", "parts": _model_parts(message)}
    return {"role": "user", "parts": [{"text": message.content}]}


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
