"""Gemini streamGenerateContent: chunk mapping, request body, real transcripts at every
split point (CRLF as recorded, and LF), and the provider end to end."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import responses

from gptbot.core.errors import ConfigError, ProviderAuthError, ProviderError
from gptbot.core.events import Finish, StreamError, TextDelta, ThinkingDelta, ToolCallDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.generation import generate
from gptbot.llm.providers import build_provider
from gptbot.llm.providers.gemini_wire import map_body, map_chunk, request_body
from tests.support.provider_streams import RecordingSink, env_config, gemini_stream, serve_quick
from tests.support.servers import FakeLLM
from tests.support.wire_cases import (
    CachedMapper,
    Capture,
    WireFormat,
    capture_fixture,
    sse_payloads,
)

REQUEST = ChatRequest(
    "gemini-test", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")), max_tokens=200
)


def chunk(parts: list[dict[str, Any]], **candidate: Any) -> str:
    return json.dumps(
        {"candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0, **candidate}]}
    )


# --- map_chunk ------------------------------------------------------------------------


def test_text_thought_and_empty_parts() -> None:
    parts = [{"text": "plan", "thought": True}, {"text": "Hi"}, {"text": ""}]
    assert map_chunk(chunk(parts)) == [ThinkingDelta("plan"), TextDelta("Hi")]


def test_function_calls_are_whole_with_json_arguments_and_signature() -> None:
    parts = [
        {"functionCall": {"name": "weather", "args": {"city": "Köln"}}, "thoughtSignature": "sig"},
        {"functionCall": {"name": "noargs"}},
    ]
    assert map_chunk(chunk(parts)) == [
        ToolCallDelta(0, None, "weather", '{"city": "K\\u00f6ln"}', "sig"),
        ToolCallDelta(1, None, "noargs", "{}"),
    ]


def test_finish_reason_and_usage() -> None:
    usage = {"promptTokenCount": 4, "candidatesTokenCount": 9, "totalTokenCount": 13}
    data = json.dumps(
        {
            "candidates": [
                {"content": {"parts": [{"text": "x"}]}, "index": 0, "finishReason": "MAX_TOKENS"}
            ],
            "usageMetadata": usage,
        }
    )
    assert map_chunk(data) == [TextDelta("x"), Finish("MAX_TOKENS"), Usage(4, 9, usage)]


def test_blocked_prompt_has_no_candidates() -> None:
    data = json.dumps({"promptFeedback": {"blockReason": "SAFETY"}})
    assert map_chunk(data) == [Finish("SAFETY")]


def test_error_objects() -> None:
    error = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    assert map_chunk(json.dumps(error)) == [StreamError("Quota exceeded", "RESOURCE_EXHAUSTED")]
    pretty = json.dumps(error, indent=2)  # how Gemini sends a plain-JSON error body
    assert map_body(pretty) == [StreamError("Quota exceeded", "RESOURCE_EXHAUSTED")]
    assert map_body(json.dumps([json.loads(chunk([{"text": "a"}]))])) == [TextDelta("a")]


@pytest.mark.parametrize("data", ["{", "[]", "data: {}"])
def test_unreadable_chunks_raise_value_error(data: str) -> None:
    with pytest.raises(ValueError, match="Gemini chunk"):
        map_chunk(data)


# --- request body -----------------------------------------------------------------------


def test_request_body() -> None:
    assert request_body(REQUEST) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {"maxOutputTokens": 200},
    }


def test_request_body_with_tools_and_results() -> None:
    call = ToolCall(0, "call_0_0", "weather", '{"city": "Paris"}', "sig-1")
    messages = (
        *REQUEST.messages,
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "sunny", tool_call_id="call_0_0", name="weather"),
    )
    with_args = ToolSpec("weather", "w", {"type": "object", "properties": {"city": {}}})
    without = ToolSpec("now", "n", {"type": "object", "properties": {}, "required": []})
    body = request_body(ChatRequest("m", messages, tools=(with_args, without)))
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "weather", "description": "w", "parameters": with_args.parameters},
                {"name": "now", "description": "n"},
            ]
        }
    ]
    assert body["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "sig-1",
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "weather", "response": {"result": "sunny"}}}],
        },
    ]


# --- real transcripts ---------------------------------------------------------------------


GEMINI = WireFormat(
    sse_payloads,
    map_chunk,
    "expected_finish_reason",
    ("promptTokenCount", "candidatesTokenCount"),
    numbered=True,
)
capture = capture_fixture("gemini")


@pytest.mark.parametrize("line_end", ["CRLF", "LF"])
def test_capture_every_split_point(capture: Capture, line_end: str) -> None:
    GEMINI.check_every_split_point(capture, line_end)


def test_calls_in_separate_chunks_stay_separate() -> None:
    mapper = CachedMapper(map_chunk, numbered=True)
    call = chunk([{"functionCall": {"name": "f", "args": {"n": 1}}}])
    acc = mapper.accumulate([call, call])
    assert [(c.index, c.arguments) for c in acc.tool_calls] == [(0, '{"n": 1}'), (1, '{"n": 1}')]


# --- the provider over HTTP -----------------------------------------------------------------


def test_streams_from_the_fake_with_only_gemini_variables() -> None:
    fake = FakeLLM(gemini_stream(["It is ", "75° and ", "sunny."]), piece_sizes=(1, 5))
    with serve_quick(fake) as server:
        config = env_config(
            GPTBOT_PROVIDER="gemini",
            GEMINI_API_KEY="AIza-test",
            GEMINI_BASE_URL=server.url,
            GPTBOT_MODEL="gemini-2.5-flash",
        )
        sink = RecordingSink()
        result = generate(build_provider(config), replace(REQUEST, model=config.model), sink)
    assert (sink.text, result.finish_reason) == ("It is 75° and sunny.", "STOP")
    assert result.usage is not None and result.usage.output_tokens == 3
    sent = fake.requests[0]
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert sent["headers"]["x-goog-api-key"] == "AIza-test"
    assert "key=" not in sent["path"]  # the key never travels in the URL (logs, proxies)


def test_google_api_key_works_too() -> None:
    provider = build_provider(env_config(GPTBOT_PROVIDER="gemini", GOOGLE_API_KEY="g"))
    assert provider.name == "gemini"
    with pytest.raises(ConfigError, match="GEMINI_API_KEY"):
        build_provider(env_config(GPTBOT_PROVIDER="gemini"))


URL = "https://gemini.test/v1beta/models/gemini-test:streamGenerateContent"


@responses.activate
def test_plain_json_error_bodies() -> None:
    error = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    responses.add(responses.POST, URL, status=400, body=json.dumps(error, indent=2))
    responses.add(
        responses.POST,
        URL,
        status=200,
        body=json.dumps(error, indent=2),
        content_type="application/json",
    )
    config = env_config(
        GPTBOT_PROVIDER="gemini", GEMINI_API_KEY="bad", GEMINI_BASE_URL="https://gemini.test"
    )
    provider = build_provider(config)
    with pytest.raises(ProviderAuthError, match="API key not valid"):
        list(provider.stream(REQUEST))
    with pytest.raises(ProviderError, match="API key not valid"):
        generate(provider, REQUEST, RecordingSink())
