"""OpenAI Chat Completions chunks → events: hand-written chunks, then real transcripts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptbot.core.events import (
    Finish,
    RefusalDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.providers.openai_wire import is_done, map_chat_chunk, request_body
from gptbot.llm.sse import SSEEvent
from tests.support.wire_cases import Capture, WireFormat, capture_file, capture_fixture, sse_events


def chunk(delta: dict[str, Any] | None = None, **extra: Any) -> str:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": extra.pop("finish", None)}
    return json.dumps({"object": "chat.completion.chunk", "choices": [choice], **extra})


# --- map_chat_chunk on small chunks -----------------------------------------------------


def test_done() -> None:
    assert is_done("[DONE]")
    assert not is_done('{"choices": []}')
    assert map_chat_chunk("[DONE]") == []


def test_role_chunk_with_empty_content_maps_to_nothing() -> None:
    assert map_chat_chunk(chunk({"role": "assistant", "content": "", "refusal": None})) == []
    assert map_chat_chunk(chunk({"role": "assistant", "content": None})) == []


def test_content_reasoning_refusal() -> None:
    assert map_chat_chunk(chunk({"content": "Hi"})) == [TextDelta("Hi")]
    assert map_chat_chunk(chunk({"reasoning_content": "hmm"})) == [ThinkingDelta("hmm")]
    assert map_chat_chunk(chunk({"reasoning": "hmm"})) == [ThinkingDelta("hmm")]
    assert map_chat_chunk(chunk({"refusal": "No."})) == [RefusalDelta("No.")]


def test_reasoning_sent_twice_counts_once() -> None:
    events = map_chat_chunk(chunk({"reasoning_content": "a", "reasoning": "a"}))
    assert events == [ThinkingDelta("a")]


def test_tool_call_fragments() -> None:
    first = {"index": 0, "id": "call_1", "type": "function"}
    first["function"] = {"name": "get_weather", "arguments": ""}
    assert map_chat_chunk(chunk({"tool_calls": [first]})) == [
        ToolCallDelta(0, "call_1", "get_weather", "")
    ]
    later = {"index": 1, "function": {"name": "", "arguments": '{"ci'}}
    assert map_chat_chunk(chunk({"tool_calls": [later]})) == [ToolCallDelta(1, None, None, '{"ci')]


def test_tool_call_arguments_object_and_missing_index() -> None:
    call = {"id": "x", "function": {"name": "f", "arguments": {"a": 1}}}
    assert map_chat_chunk(chunk({"tool_calls": [call, call]})) == [
        ToolCallDelta(0, "x", "f", '{"a": 1}'),
        ToolCallDelta(1, "x", "f", '{"a": 1}'),
    ]


def test_legacy_function_call() -> None:
    events = map_chat_chunk(chunk({"function_call": {"name": "f", "arguments": "{}"}}))
    assert events == [ToolCallDelta(0, None, "f", "{}")]


def test_finish_and_usage() -> None:
    usage = {"prompt_tokens": 14, "completion_tokens": 30, "total_tokens": 44}
    assert map_chat_chunk(chunk(finish="stop")) == [Finish("stop")]
    events = map_chat_chunk(json.dumps({"choices": [], "usage": usage}))
    assert events == [Usage(14, 30, usage)]
    assert map_chat_chunk(chunk({"content": "x"}, usage=None)) == [TextDelta("x")]


def test_groq_usage() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "queue_time": 0.1}
    events = map_chat_chunk(chunk(finish="stop", x_groq={"id": "req_1", "usage": usage}))
    assert events == [Finish("stop"), Usage(3, 4, usage)]


def test_empty_or_missing_choices() -> None:
    azure = {"choices": [], "id": "", "prompt_filter_results": [{"prompt_index": 0}]}
    assert map_chat_chunk(json.dumps(azure)) == []
    assert map_chat_chunk("{}") == []
    assert map_chat_chunk('{"choices": null}') == []


def test_only_choice_index_zero() -> None:
    other = {"index": 1, "delta": {"content": "B"}, "finish_reason": "stop"}
    ours = {"index": 0, "delta": {"content": "A"}, "finish_reason": None}
    assert map_chat_chunk(json.dumps({"choices": [other]})) == []
    assert map_chat_chunk(json.dumps({"choices": [other, ours]})) == [TextDelta("A")]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"error": {"message": "Overloaded", "type": "server_error", "code": None}},
            StreamError("Overloaded", "server_error"),
        ),
        (
            {"error": {"message": "bad", "type": "x", "code": "rate_limit_exceeded"}},
            StreamError("bad", "rate_limit_exceeded"),
        ),
        ({"error": "an error was encountered"}, StreamError("an error was encountered")),
        (
            {"error": {}, "object": "error", "message": "vllm", "code": 400},
            StreamError("vllm", "400"),
        ),
        (
            {"error": {"message": "Compute error."}, "message": "Compute error."},
            StreamError("Compute error."),
        ),
        ({"error": {"type": "x"}}, StreamError("An error occurred during streaming", "x")),
    ],
    ids=["openai", "code", "string", "vllm-bare", "lmstudio", "no-message"],
)
def test_error_objects(payload: dict[str, Any], expected: StreamError) -> None:
    assert map_chat_chunk(json.dumps(payload)) == [expected]


def test_null_error_is_no_error() -> None:
    assert map_chat_chunk(json.dumps({"error": None, "choices": []})) == []


def test_llama_cpp_error_event() -> None:
    data = '{"code":500,"message":"context too long","type":"server_error"}'
    assert map_chat_chunk(data) == [StreamError("context too long", "500")]
    assert map_chat_chunk(data, "error") == [StreamError("context too long", "500")]
    assert map_chat_chunk("not json", "error") == [StreamError("not json")]


@pytest.mark.parametrize("data", ["{", "data: {}", "", '"text"', "[1, 2]", "null"])
def test_invalid_json_raises_value_error(data: str) -> None:
    with pytest.raises(ValueError, match="chat chunk"):
        map_chat_chunk(data)


# --- request body -----------------------------------------------------------------------


def test_request_body_plain() -> None:
    request = ChatRequest(
        "gpt",
        (ChatMessage("system", "s"), ChatMessage("user", "u")),
        max_tokens=5,
        extra={"temperature": 0.2},
    )
    assert request_body(request) == {
        "model": "gpt",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        "max_tokens": 5,
        "temperature": 0.2,
    }


def test_request_body_with_tools_calls_and_results() -> None:
    calls = (ToolCall(0, "call_1", "f", '{"a": 1}'), ToolCall(1, "call_2", "g", ""))
    messages = (
        ChatMessage("user", "u"),
        ChatMessage("assistant", "", tool_calls=calls),
        ChatMessage("tool", "r1", tool_call_id="call_1", name="f"),
        ChatMessage("tool", "r2", tool_call_id="call_2", name="g"),
    )
    spec = ToolSpec("f", "does f", {"type": "object", "properties": {}})
    body = request_body(ChatRequest("gpt", messages, tools=(spec,)))
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "description": "does f", "parameters": spec.parameters},
        }
    ]
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "r1"},
        {"role": "tool", "tool_call_id": "call_2", "content": "r2"},
    ]


# --- ChatAccumulator ------------------------------------------------------------------


def test_accumulator_collects_everything() -> None:
    acc = ChatAccumulator()
    acc.add_all(
        [
            ThinkingDelta("let me "),
            ThinkingDelta("think"),
            TextDelta("Hel"),
            TextDelta("lo"),
            ToolCallDelta(1, "b", "second", '{"x"'),
            ToolCallDelta(0, "a", "first", ""),
            ToolCallDelta(0, None, "", '{"y": 1}'),
            ToolCallDelta(1, "", None, ": 2}"),
            RefusalDelta("no"),
            Finish("tool_calls"),
            Usage(1, 2, {"prompt_tokens": 1}),
            StreamError("first", "x"),
            StreamError("second"),
        ]
    )
    assert (acc.text, acc.thinking, acc.refusal) == ("Hello", "let me think", "no")
    assert acc.tool_calls == [
        ToolCall(0, "a", "first", '{"y": 1}'),
        ToolCall(1, "b", "second", '{"x": 2}'),
    ]
    assert acc.finish_reason == "tool_calls"
    assert acc.usage == Usage(1, 2, {"prompt_tokens": 1})
    assert acc.error == StreamError("first", "x")


def test_accumulator_empty() -> None:
    acc = ChatAccumulator()
    assert (acc.text, acc.tool_calls, acc.finish_reason, acc.usage, acc.error) == (
        "",
        [],
        None,
        None,
        None,
    )


# --- captured transcripts at every split point -----------------------------------------


def _map_event(event: SSEEvent) -> list[StreamEvent]:
    return map_chat_chunk(event.data, event.event)  # the event name matters (llama.cpp errors)


CHAT = WireFormat(
    sse_events, _map_event, "expected_finish_reason", ("prompt_tokens", "completion_tokens")
)
capture = capture_fixture("openai-chat", "azure-openai-chat", "openai-compatible/")


def test_capture_whole(capture: Capture) -> None:
    body, expected = capture
    CHAT.check(CHAT.answer([body]), expected)


@pytest.mark.parametrize("line_end", ["LF", "CRLF"])
def test_capture_every_split_point(capture: Capture, line_end: str) -> None:
    CHAT.check_every_split_point(capture, line_end)


def test_n3_choices_keep_choice_zero_only() -> None:
    body, expected = capture_file("openai-chat-n3-choices.sse")
    choices = expected["expected_choices"]
    assert CHAT.answer([body]).text == choices["0"] != choices["1"]
