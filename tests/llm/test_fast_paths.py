"""The typed fast paths of the wire mappers give exactly the general dict path's events:
on every payload of every capture, and on hand-picked odd JSON where they must step
aside. Generated chunks are in test_fast_paths_fuzz.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gptbot.core.events import Finish, StreamEvent, TextDelta, ThinkingDelta, ToolCallDelta
from gptbot.llm.providers import (
    anthropic_shapes,
    anthropic_wire,
    gemini_shapes,
    gemini_wire,
    ollama_shapes,
    ollama_wire,
    openai_shapes,
    openai_wire,
)
from gptbot.llm.providers.wire_common import decode_shape
from tests.support.wire_cases import (
    Capture,
    capture_fixture,
    capture_params,
    load_capture,
    ndjson_lines,
    sse_events,
)


def outcome(mapper: Callable[..., list[StreamEvent]], *args: str) -> Any:
    """A mapper's events, or the ValueError it raised (any other exception fails)."""
    try:
        return mapper(*args)
    except ValueError as exc:
        return ("ValueError", str(exc))


def gemini_fast(data: str) -> list[StreamEvent] | None:
    return gemini_shapes.fast_events(data, gemini_wire.usage_metadata)


# Per format: the public mapper, the general dict path, the fast path alone.
FORMATS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[[str], Any]]] = {
    "openai": (openai_wire.map_chat_chunk, openai_wire.map_chat_chunk_dict,
               openai_shapes.fast_chat_events),
    "anthropic": (anthropic_wire.map_event, anthropic_wire.map_event_dict,
                  anthropic_shapes.fast_events),
    "gemini": (gemini_wire.map_chunk, gemini_wire.map_chunk_dict, gemini_fast),
    "ollama": (ollama_wire.map_line, ollama_wire.map_line_dict, ollama_shapes.fast_events),
}


def assert_same(name: str, data: str) -> None:
    """The public mapper (fast path first) and the dict path agree on `data`, and so does
    the fast path alone whenever it takes the payload."""
    public, general, fast = FORMATS[name]
    expected = outcome(general, data)
    assert outcome(public, data) == expected, data
    taken = fast(data)
    assert taken is None or taken == expected, data


# --- every payload of every capture -------------------------------------------------------

openai_capture = capture_fixture("openai-chat", "azure-openai-chat", "openai-compatible/")
anthropic_capture = capture_fixture("anthropic")
gemini_capture = capture_fixture("gemini")
ollama_capture = capture_fixture("ollama")


def _payloads(body: bytes, ndjson: bool = False) -> list[str]:
    return ndjson_lines([body]) if ndjson else [event.data for event in sse_events([body])]


def _check_capture(name: str, body: bytes, ndjson: bool = False) -> None:
    for data in _payloads(body, ndjson):
        assert_same(name, data)


def test_openai_captures(openai_capture: Capture) -> None:
    body, _ = openai_capture
    for event in sse_events([body]):  # the event name is part of the input here
        expected = outcome(openai_wire.map_chat_chunk_dict, event.data, event.event)
        assert outcome(openai_wire.map_chat_chunk, event.data, event.event) == expected
    _check_capture("openai", body)


def test_anthropic_captures(anthropic_capture: Capture) -> None:
    _check_capture("anthropic", anthropic_capture[0])


def test_gemini_captures(gemini_capture: Capture) -> None:
    _check_capture("gemini", gemini_capture[0])


def test_ollama_captures(ollama_capture: Capture) -> None:
    _check_capture("ollama", ollama_capture[0], ndjson=True)


@pytest.mark.parametrize(
    ("name", "providers"),
    [
        ("openai", ("openai-chat", "azure-openai-chat", "openai-compatible/")),
        ("anthropic", ("anthropic",)),
        ("gemini", ("gemini",)),
        ("ollama", ("ollama",)),
    ],
)
def test_most_captured_payloads_take_the_fast_path(name: str, providers: tuple[str, ...]) -> None:
    paths = capture_params(*providers)
    payloads = [data for path in paths for data in _payloads(*_body(path, name))]
    taken = sum(FORMATS[name][2](data) is not None for data in payloads)
    assert taken > 0.7 * len(payloads), f"{taken} of {len(payloads)}"


def _body(path: Path | None, name: str) -> tuple[bytes, bool]:
    return load_capture(path)[0], name == "ollama"


# --- the common shapes do take the fast path -------------------------------------------------


def test_common_chunks_take_the_fast_path() -> None:
    choice = {"index": 0, "delta": {"content": "Hi"}, "finish_reason": None, "logprobs": None}
    chunk = {"id": "c", "object": "chat.completion.chunk", "choices": [choice]}
    assert openai_shapes.fast_chat_events(json.dumps(chunk)) == [TextDelta("Hi")]
    call = {"index": 1, "id": "call_1", "type": "function", "function": {"name": "f"}}
    tool = {"choices": [{"delta": {"tool_calls": [call]}, "finish_reason": "tool_calls"}]}
    assert openai_shapes.fast_chat_events(json.dumps(tool)) == [
        ToolCallDelta(1, "call_1", "f", ""),
        Finish("tool_calls"),
    ]
    thinking = {"type": "thinking_delta", "thinking": "hm"}
    delta = {"type": "content_block_delta", "index": 0, "delta": thinking}
    assert anthropic_shapes.fast_events(json.dumps(delta)) == [ThinkingDelta("hm")]
    part = {"content": {"parts": [{"text": "Hi"}], "role": "model"}, "index": 0}
    assert gemini_fast(json.dumps({"candidates": [part]})) == [TextDelta("Hi")]
    line = {"model": "m", "message": {"role": "assistant", "content": "Hi"}, "done": False}
    assert ollama_shapes.fast_events(json.dumps(line)) == [TextDelta("Hi")]


# --- odd JSON: the fast path steps aside, the result is the dict path's ------------------------

ODD_JSON = [
    "",
    "  ",
    "[DONE]",
    "null",
    "[]",
    '"text"',
    "{",
    '{"a": 1} x',
    "\ufeff{}",
    "{}",
    "{'a': 1}",
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"a": 1e999}',
    '{"a": 123456789012345678901234567890}',
    '{"a": "\\ud800"}',
    '{"a": "\ud800"}',  # a lone surrogate in the str itself: not encodable as UTF-8
    '{"a": "tab\tinside"}',
    '{"a": [1,]}',
    " \t\r\n{} \n",
]
OPENAI_ODD = [
    '{"choices": [{"delta": {"content": "a"}}], "choices": null}',
    '{"choices": null, "choices": [{"delta": {"content": "a"}}]}',
    '{"choices": [{"delta": {"content": "a", "content": "b"}}]}',
    '{"choices": [{"index": true, "delta": {"content": "a"}}]}',
    '{"choices": [{"index": 0.0, "delta": {"content": "a"}}]}',
    '{"choices": [{"index": null, "delta": {"content": "a"}}]}',
    '{"choices": ["x", {"delta": {"content": "a"}}]}',
    '{"choices": [{"delta": {"content": 5}}]}',
    '{"choices": [{"delta": {"content": "a"}, "finish_reason": 3}]}',
    '{"choices": [{"delta": {"tool_calls": [{"index": true, "function": {}}]}}]}',
    '{"choices": [{"delta": {"tool_calls": [{"function": {"arguments": {"a": 1}}}]}}]}',
    '{"choices": [{"delta": {"tool_calls": [], "function_call": {"name": "f"}}}]}',
    '{"choices": [{"delta": {"function_call": {"name": "f", "arguments": "{}"}}}]}',
    '{"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}',
    '{"choices": [], "x_groq": {"id": "x", "usage": {"prompt_tokens": 1}}}',
    '{"choices": [], "x_groq": "x"}',
    '{"choices": [], "error": {"message": "boom"}}',
    '{"choices": [], "error": ""}',
    '{"object": "error", "message": "vllm", "code": 400}',
    '{"message": "bare"}',
    '{"choices": [{"delta": {"reasoning_content": "", "reasoning": "r", "refusal": "no"}}]}',
]
ANTHROPIC_ODD = [
    '{"type": "content_block_delta", "index": true, "delta": {"type": "input_json_delta",'
    ' "partial_json": "{"}}',
    '{"type": "content_block_delta", "index": -2, "delta": {"type": "input_json_delta",'
    ' "partial_json": "{"}}',
    '{"type": "content_block_delta", "delta": {"type": "text_delta", "text": 5}}',
    '{"type": "content_block_delta", "delta": "text"}',
    '{"type": "content_block_delta", "delta": {"type": "text_delta", "text": "a"},'
    ' "type": "ping"}',
    '{"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use",'
    ' "id": 7, "name": "f"}}',
    '{"type": "content_block_start", "content_block": {"type": "text", "text": "a"}}',
    '{"type": "message_delta", "delta": {"stop_reason": "end_turn"},'
    ' "usage": {"output_tokens": 3}}',
    '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
    '{"type": 5}',
    '{"type": null, "index": "x"}',
]
GEMINI_ODD = [
    '{"candidates": [{"content": {"parts": [{"text": "a", "thought": 1}]}}]}',
    '{"candidates": [{}], "promptFeedback": {"blockReason": "SAFETY"}}',
    '{"promptFeedback": {"blockReason": "SAFETY"}}',
    '{"candidates": [{"content": {"parts": "ab"}}]}',
    '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": [1]}}]}}]}',
    '{"candidates": [{"content": {"parts": [{"text": "a"}, {"functionCall": {"name": "f",'
    ' "args": {"x": 1.5}}, "thoughtSignature": "s"}]}}]}',
    '{"candidates": [], "usageMetadata": {"promptTokenCount": 1.5}}',
    '{"candidates": [], "usageMetadata": {"promptTokenCount": true}}',
    '{"candidates": [], "usageMetadata": {"promptTokenCount": 3, "promptTokenCount": -1}}',
    '{"candidates": [], "usageMetadata": 5}',
    '{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota"}}',
    '{"error": 0, "candidates": []}',
]
OLLAMA_ODD = [
    '{"message": {"content": "a", "tool_calls": [{"function": {"name": "f"}}]}}',
    '{"message": {"content": "a"}, "done": 1}',
    '{"message": {"content": "a"}, "done": true, "eval_count": 2}',
    '{"message": "a", "response": "b"}',
    '{"error": "boom"}',
    '{"error": "", "response": "b"}',
    '{"message": {"thinking": "t", "content": ""}, "response": 5}',
]


@pytest.mark.parametrize(
    ("name", "data"),
    [(name, data) for name in FORMATS for data in ODD_JSON]
    + [("openai", data) for data in OPENAI_ODD]
    + [("anthropic", data) for data in ANTHROPIC_ODD]
    + [("gemini", data) for data in GEMINI_ODD]
    + [("ollama", data) for data in OLLAMA_ODD],
)
def test_odd_json_gives_the_dict_path_result(name: str, data: str) -> None:
    assert_same(name, data)


def test_openai_error_event_never_takes_the_fast_path() -> None:
    data = '{"choices": [{"delta": {"content": "a"}}], "message": "context too long"}'
    assert openai_wire.map_chat_chunk(data, "error") == openai_wire.map_chat_chunk_dict(
        data, "error"
    )


def test_decode_shape_steps_aside_for_what_it_cannot_read() -> None:
    decoder = openai_shapes._DECODER
    assert decode_shape(decoder, '{"choices": []}') is not None
    assert decode_shape(decoder, '{"choices": "x"}') is None  # another type
    assert decode_shape(decoder, "not json") is None
    assert decode_shape(decoder, '{"choices": ["\ud800"]}') is None  # not encodable
