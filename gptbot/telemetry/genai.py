"""The OpenTelemetry GenAI vocabulary for one model call: span attributes and label values.

Pure functions over the call's request and record; no OpenTelemetry import, so the metrics
use the same names whether or not traces are on.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from gptbot.core.events import Usage
from gptbot.core.types import CallTag, ChatMessage, ChatRequest

OPERATION = "chat"
# gptbot's provider names → the GenAI convention's well-known gen_ai.provider.name values.
PROVIDER_NAMES = {"gemini": "gcp.gemini", "azure": "azure.ai.openai"}


class ModelCall(Protocol):
    """What telemetry reads of a finished call (gptbot.llm.metering.CallRecord has it)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def tag(self) -> CallTag | None: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def first_token_s(self) -> float | None: ...
    @property
    def total_s(self) -> float: ...
    @property
    def outcome(self) -> str: ...
    @property
    def finish_reason(self) -> str | None: ...
    @property
    def text(self) -> str: ...


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


def error_type(outcome: str) -> str:
    """`error:ProviderTimeout` → `ProviderTimeout`; "" for a call that did not fail."""
    return outcome.removeprefix("error:") if outcome.startswith("error:") else ""


def span_name(request: ChatRequest) -> str:
    return f"{OPERATION} {request.model}"


def request_attributes(provider: str, request: ChatRequest, content: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": provider_name(provider),
        "gen_ai.request.model": request.model,
    }
    if request.max_tokens:
        attributes["gen_ai.request.max_tokens"] = request.max_tokens
    if request.tag:
        attributes["gen_ai.conversation.id"] = request.tag.channel
        attributes["gptbot.call.purpose"] = request.tag.purpose
    if content:  # only when the operator asked: messages are what channel members wrote
        attributes["gen_ai.input.messages"] = json.dumps(
            [_message(m) for m in request.messages], ensure_ascii=False)
    return attributes


def response_attributes(call: ModelCall, content: bool) -> dict[str, Any]:
    usage = call.usage
    attributes: dict[str, Any] = {"gptbot.call.outcome": call.outcome}
    if usage.input_tokens is not None:
        attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
    if usage.output_tokens is not None:
        attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
    if call.finish_reason:
        attributes["gen_ai.response.finish_reasons"] = [call.finish_reason]
    if error_type(call.outcome):
        attributes["error.type"] = error_type(call.outcome)
    if content:
        output = {"role": "assistant", "parts": [_text(call.text)],
                  "finish_reason": call.finish_reason or call.outcome}
        attributes["gen_ai.output.messages"] = json.dumps([output], ensure_ascii=False)
    return attributes


def _message(message: ChatMessage) -> dict[str, Any]:
    return {"role": message.role, "parts": [_text(message.content)]}


def _text(content: str) -> dict[str, str]:
    return {"type": "text", "content": content}
