"""Test helpers for the providers: stream bodies in each vendor's wire format, and a fake
LLM that answers successive requests with successive bodies. Captured transcripts are
in `tests.support.wire_cases`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from gptbot.config import Config
from tests.support.common import API_KEY, API_SECRET
from tests.support.servers import FakeLLM, RunningHttp, _llm_handler

# --- fakes -------------------------------------------------------------------------------


@dataclass
class ScriptedLLM(FakeLLM):
    """Answers the n-th request with `bodies[n]` (the last body repeats)."""

    bodies: list[bytes] = field(default_factory=list)

    def pieces(self) -> Iterator[bytes]:
        self.body = self.bodies[min(len(self.requests), len(self.bodies)) - 1]
        return super().pieces()


def serve_quick(fake: FakeLLM) -> RunningHttp:
    """servers.serve_llm, but stopping in milliseconds: serve_forever's default poll
    interval makes every shutdown wait half a second, which adds up over many tests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _llm_handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    return RunningHttp(server, thread)


def env_config(**variables: str) -> Config:
    """A Config from environment variables: Stream's keys plus only what the test sets."""
    return Config.from_env(
        {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET, **variables}
    )


class RecordingSink:
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.states: list[str] = []
        self.messages: list[str] = []
        self.steps: list = []

    def add(self, delta: str) -> None:
        self.pieces.append(delta)

    def set_state(self, state: str, message: str = "") -> None:
        self.states.append(state)
        self.messages.append(message)

    def show_step(self, step) -> None:
        self.steps.append(step)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


# --- wire-format bodies ------------------------------------------------------------------


def sse(events: list[tuple[str | None, dict[str, Any]]]) -> bytes:
    """SSE body from (event name or None, JSON data) pairs."""
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {json.dumps(data)}\n\n")
    return "".join(out).encode()


def openai_tool_call_stream(*calls: tuple[str, str, str]) -> bytes:
    """Parallel tool calls (id, name, JSON arguments), arguments streamed in two halves."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, dict[str, Any]]:
        return None, {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": None})]
    for index, (call_id, name, arguments) in enumerate(calls):
        first = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        half = len(arguments) // 2
        events.append(chunk({"tool_calls": [first]}))
        events += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
            for part in (arguments[:half], arguments[half:])
        ]
    events.append(chunk({}, "tool_calls"))
    return sse(events) + b"data: [DONE]\n\n"


def anthropic_stream(
    texts: list[str], tool: tuple[str, str, str] | None = None, stop_reason: str = "end_turn"
) -> bytes:
    """Text block from `texts`, then an optional tool_use block (id, name, json)."""
    events: list[tuple[str | None, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "role": "assistant",
                    "content": [],
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    events += [
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        )
        for text in texts
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool:
        events += _anthropic_tool_block(*tool)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 7},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return sse(events)


def _anthropic_tool_block(
    call_id: str, name: str, arguments: str
) -> list[tuple[str | None, dict[str, Any]]]:
    start = {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}},
    }
    half = len(arguments) // 2
    deltas = [
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": part},
        }
        for part in ("", arguments[:half], arguments[half:])
    ]
    stop = {"type": "content_block_stop", "index": 1}
    return [
        ("content_block_start", start),
        *[("content_block_delta", d) for d in deltas],
        ("content_block_stop", stop),
    ]


def gemini_stream(
    texts: list[str], call: tuple[str, dict[str, Any]] | None = None, finish: str = "STOP"
) -> bytes:
    """Gemini alt=sse, CRLF-framed like the real service."""
    parts: list[list[dict[str, Any]]] = [[{"text": text}] for text in texts]
    if call:
        parts.append(
            [{"functionCall": {"name": call[0], "args": call[1]}, "thoughtSignature": "sig-1"}]
        )
    events = []
    for n, part in enumerate(parts):
        candidate: dict[str, Any] = {"content": {"parts": part, "role": "model"}, "index": 0}
        if n == len(parts) - 1:
            candidate["finishReason"] = finish
        usage = {"promptTokenCount": 5, "candidatesTokenCount": n + 1, "totalTokenCount": n + 6}
        events.append(f"data: {json.dumps({'candidates': [candidate], 'usageMetadata': usage})}")
    return "\r\n\r\n".join(events).encode() + b"\r\n\r\n"


def ollama_stream(
    texts: list[str],
    calls: list[tuple[str, dict[str, Any]]] | None = None,
    done_reason: str = "stop",
) -> bytes:
    lines = [
        {"model": "m", "message": {"role": "assistant", "content": text}, "done": False}
        for text in texts
    ]
    lines += [
        {
            "model": "m",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": name, "arguments": args}}],
            },
            "done": False,
        }
        for name, args in calls or []
    ]
    lines.append(
        {
            "model": "m",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": done_reason,
            "prompt_eval_count": 8,
            "eval_count": 4,
        }
    )
    return "".join(json.dumps(line) + "\n" for line in lines).encode()
