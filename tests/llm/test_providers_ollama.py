"""Ollama /api/chat: NDJSON line mapping, request body, real transcripts at every split
point (LF and CRLF), and the provider end to end through the loopback fake."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from gptbot.core.errors import ProviderError
from gptbot.core.events import Finish, StreamError, TextDelta, ThinkingDelta, ToolCallDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall, ToolSpec
from gptbot.llm.generation import generate
from gptbot.llm.providers import build_provider
from gptbot.llm.providers.ollama_wire import map_line, request_body
from tests.support.provider_streams import RecordingSink, env_config, ollama_stream, serve_quick
from tests.support.servers import FakeLLM
from tests.support.wire_cases import Capture, WireFormat, capture_fixture, ndjson_lines

REQUEST = ChatRequest(
    "llama-test", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")), max_tokens=100
)


def line(message: dict[str, Any], **fields: Any) -> str:
    return json.dumps({"model": "m", "message": {"role": "assistant", **message}, **fields})


# --- map_line ---------------------------------------------------------------------------


def test_content_thinking_and_generate_response() -> None:
    assert map_line(line({"content": "Hi"}, done=False)) == [TextDelta("Hi")]
    assert map_line(line({"content": "", "thinking": "hmm"})) == [ThinkingDelta("hmm")]
    assert map_line(json.dumps({"response": "Yes", "done": False})) == [TextDelta("Yes")]


def test_tool_calls_are_whole_objects() -> None:
    calls = [
        {"function": {"name": "weather", "arguments": {"city": "Detroit"}}},
        {"function": {"index": 1, "name": "search", "arguments": '{"q": 1}'}},
    ]
    assert map_line(line({"content": "", "tool_calls": calls})) == [
        ToolCallDelta(0, None, "weather", '{"city": "Detroit"}'),
        ToolCallDelta(1, None, "search", '{"q": 1}'),
    ]


def test_done_line_gives_reason_and_counts() -> None:
    done = line(
        {"content": ""},
        done=True,
        done_reason="length",
        prompt_eval_count=3,
        eval_count=5,
        eval_duration=7,
    )
    raw = {"prompt_eval_count": 3, "eval_count": 5, "eval_duration": 7}
    assert map_line(done) == [Finish("length"), Usage(3, 5, raw)]


def test_error_line() -> None:
    assert map_line('{"error":"model runner has unexpectedly stopped"}') == [
        StreamError("model runner has unexpectedly stopped")
    ]


@pytest.mark.parametrize("data", ["{", "[1]", "data: {}"])
def test_unreadable_lines_raise_value_error(data: str) -> None:
    with pytest.raises(ValueError, match="Ollama line"):
        map_line(data)


# --- request body -----------------------------------------------------------------------


def test_request_body_with_tools_and_results() -> None:
    call = ToolCall(0, "call_0_0", "weather", '{"city": "Detroit"}')
    messages = (
        *REQUEST.messages,
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "sunny", tool_call_id="call_0_0", name="weather"),
    )
    spec = ToolSpec("weather", "w", {"type": "object", "properties": {}})
    body = request_body(ChatRequest("m", messages, max_tokens=50, tools=(spec,)))
    assert body["options"] == {"num_predict": 50} and body["stream"] is True
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "description": "w", "parameters": spec.parameters},
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Detroit"}}}],
        },
        {"role": "tool", "content": "sunny", "tool_name": "weather"},
    ]


# --- real transcripts ---------------------------------------------------------------------


OLLAMA = WireFormat(
    ndjson_lines,
    map_line,
    "expected_done_reason",
    ("prompt_eval_count", "eval_count"),
    numbered=True,
)
capture = capture_fixture("ollama")


@pytest.mark.parametrize("line_end", ["LF", "CRLF"])
def test_capture_every_split_point(capture: Capture, line_end: str) -> None:
    OLLAMA.check_every_split_point(capture, line_end)


# --- the provider over HTTP -----------------------------------------------------------------


def test_streams_from_the_fake_with_only_ollama_host() -> None:
    fake = FakeLLM(ollama_stream(["I am ", "Granite", " ✓"]), piece_sizes=(1, 6))
    with serve_quick(fake) as server:
        host = server.url.removeprefix("http://")  # Ollama's own bare host:port form
        config = env_config(GPTBOT_PROVIDER="ollama", OLLAMA_HOST=host)
        sink = RecordingSink()
        result = generate(build_provider(config), replace(REQUEST, model=config.model), sink)
    assert (sink.text, result.finish_reason) == ("I am Granite ✓", "stop")
    assert result.usage is not None and (result.usage.input_tokens, result.usage.output_tokens) == (
        8,
        4,
    )
    sent = fake.requests[0]
    assert sent["path"] == "/api/chat"
    assert sent["json"]["model"] == "llama3.2" and sent["json"]["stream"] is True
    assert "Authorization" not in sent["headers"]


def test_error_line_mid_stream_fails_the_answer() -> None:
    body = ollama_stream(["Yes", "."]).rsplit(b"\n", 2)[0] + b'\n{"error":"out of memory"}\n'
    with serve_quick(FakeLLM(body)) as server:
        config = env_config(GPTBOT_PROVIDER="ollama", OLLAMA_HOST=server.url)
        sink = RecordingSink()
        with pytest.raises(ProviderError, match="out of memory"):
            generate(build_provider(config), REQUEST, sink)
    assert sink.text == "Yes."


def test_length_limit_gets_the_cut_short_note() -> None:
    with serve_quick(FakeLLM(ollama_stream(["Once upon"], done_reason="length"))) as server:
        config = env_config(GPTBOT_PROVIDER="ollama", OLLAMA_HOST=server.url)
        result = generate(build_provider(config), REQUEST, RecordingSink())
    assert result.finish_reason == "length" and "cut short" in result.note
