"""Anthropic Messages: event mapping, request body, real transcripts at every split point
(LF and CRLF), and the provider end to end through the loopback fake."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptbot.core.errors import ConfigError, ProviderError
from gptbot.core.events import Finish, StreamError, TextDelta, ThinkingDelta, ToolCallDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.generation import generate
from gptbot.llm.providers import build_provider
from gptbot.llm.providers.anthropic_wire import map_event, request_body
from tests.support.provider_streams import (
    RecordingSink,
    anthropic_stream,
    env_config,
    serve_quick,
)
from tests.support.servers import FakeLLM
from tests.support.wire_cases import (
    Capture,
    WireFormat,
    capture_file,
    capture_fixture,
    sse_payloads,
)

REQUEST = ChatRequest(
    "claude-test", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")), max_tokens=300
)


def delta(kind: str, **fields: Any) -> str:
    body = {"type": "content_block_delta", "index": 2, "delta": {"type": kind, **fields}}
    return json.dumps(body)


# --- map_event ------------------------------------------------------------------------


def test_text_thinking_and_signature_deltas() -> None:
    assert map_event(delta("text_delta", text="Hi")) == [TextDelta("Hi")]
    assert map_event(delta("thinking_delta", thinking="hmm")) == [ThinkingDelta("hmm")]
    assert map_event(delta("signature_delta", signature="EqQB")) == []
    assert map_event(delta("citations_delta", citation={})) == []


def test_tool_use_block_and_json_deltas() -> None:
    start = {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
    }
    assert map_event(json.dumps(start)) == [ToolCallDelta(1, "toolu_1", "get_weather")]
    assert map_event(delta("input_json_delta", partial_json='{"a"')) == [
        ToolCallDelta(2, arguments='{"a"')
    ]
    assert map_event(delta("input_json_delta", partial_json="")) == []


def test_message_start_and_delta_give_usage_and_stop_reason() -> None:
    start = {
        "type": "message_start",
        "message": {"usage": {"input_tokens": 25, "output_tokens": 1}},
    }
    assert map_event(json.dumps(start)) == [Usage(25, 1, {"input_tokens": 25, "output_tokens": 1})]
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 15},
    }
    assert map_event(json.dumps(end)) == [
        Finish("end_turn"),
        Usage(None, 15, {"output_tokens": 15}),
    ]


def test_partial_usage_reports_combine_in_the_accumulator() -> None:
    acc = ChatAccumulator()
    acc.add_all([Usage(25, 1, {"input_tokens": 25}), Usage(None, 15, {"output_tokens": 15})])
    assert acc.usage == Usage(25, 15, {"input_tokens": 25, "output_tokens": 15})


@pytest.mark.parametrize(
    "data",
    [
        # docs example
        '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
        # real log (litellm#4562), with the whitespace padding seen in the wild
        '{"type":"error","error":{"details":null,"type":"overloaded_error",'
        '"message":"Overloaded"}      }',
    ],
)
def test_error_events(data: str) -> None:
    assert map_event(data) == [StreamError("Overloaded", "overloaded_error")]


def test_ignored_events() -> None:
    for kind in ("ping", "content_block_stop", "message_stop", "something_new"):
        assert map_event(json.dumps({"type": kind, "index": 0})) == []


@pytest.mark.parametrize("data", ["{", "[]", ""])
def test_unreadable_events_raise_value_error(data: str) -> None:
    with pytest.raises(ValueError, match="Anthropic event"):
        map_event(data)


# --- request body -----------------------------------------------------------------------


def test_request_body_has_top_level_system_and_max_tokens() -> None:
    body = request_body(REQUEST)
    assert body == {
        "model": "claude-test",
        "max_tokens": 300,
        "stream": True,
        "system": "be brief",
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert request_body(ChatRequest("m", (ChatMessage("user", "x"),)))["max_tokens"] == 1024


def test_request_body_with_tools_and_results() -> None:
    calls = (ToolCall(0, "t1", "a", '{"x": 1}'), ToolCall(1, "t2", "b", '{"trunc'))
    messages = (
        *REQUEST.messages,
        ChatMessage("assistant", "Let me look.", tool_calls=calls),
        ChatMessage("tool", "one", tool_call_id="t1", name="a"),
        ChatMessage("tool", "two", tool_call_id="t2", name="b"),
    )
    spec = ToolSpec("a", "does a", {"type": "object", "properties": {}})
    body = request_body(ChatRequest("m", messages, tools=(spec,)))
    assert body["tools"] == [
        {"name": "a", "description": "does a", "input_schema": {"type": "object", "properties": {}}}
    ]
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "t1", "name": "a", "input": {"x": 1}},
                {"type": "tool_use", "id": "t2", "name": "b", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "one"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "two"},
            ],
        },
    ]


# --- real transcripts ---------------------------------------------------------------------


ANTHROPIC = WireFormat(
    sse_payloads, map_event, "expected_stop_reason", ("input_tokens", "output_tokens")
)
capture = capture_fixture("anthropic")


@pytest.mark.parametrize("line_end", ["LF", "CRLF"])
def test_capture_every_split_point(capture: Capture, line_end: str) -> None:
    ANTHROPIC.check_every_split_point(capture, line_end)


# --- the provider over HTTP -----------------------------------------------------------------


def test_streams_from_the_fake_with_only_anthropic_variables() -> None:
    fake = FakeLLM(anthropic_stream(["Hel", "lo ", "wörld"]), piece_sizes=(1, 7))
    with serve_quick(fake) as server:
        config = env_config(
            GPTBOT_PROVIDER="anthropic",
            ANTHROPIC_API_KEY="sk-ant-test",
            ANTHROPIC_BASE_URL=server.url,
        )
        sink = RecordingSink()
        result = generate(build_provider(config), REQUEST, sink)
    assert (sink.text, result.finish_reason) == ("Hello wörld", "end_turn")
    assert result.usage == Usage(12, 7, {"input_tokens": 12, "output_tokens": 7})
    sent = fake.requests[0]
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == "sk-ant-test"
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in sent["headers"]
    assert sent["json"]["system"] == "be brief" and sent["json"]["stream"] is True


def test_error_event_mid_stream_fails_the_answer() -> None:
    body = anthropic_stream(["partial"]).split(b"event: message_delta")[0] + (
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
        b'"message": "Overloaded"}}\n\n'
    )
    with serve_quick(FakeLLM(body)) as server:
        config = env_config(
            GPTBOT_PROVIDER="anthropic", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url
        )
        sink = RecordingSink()
        with pytest.raises(ProviderError, match="Overloaded"):
            generate(build_provider(config), REQUEST, sink)
    assert sink.text == "partial"


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        build_provider(env_config(GPTBOT_PROVIDER="anthropic"))


def test_captured_body_streams_through_the_provider() -> None:
    body, _ = capture_file("anthropic-tool-use.sse")
    with serve_quick(FakeLLM(body)) as server:
        config = env_config(
            GPTBOT_PROVIDER="anthropic", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url
        )
        acc = ChatAccumulator()
        acc.add_all(build_provider(config).stream(REQUEST))
    assert acc.text == "I'll check the current weather in Paris for you."
    assert acc.tool_calls == [
        ToolCall(1, "toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", '{"location": "Paris"}')
    ]
