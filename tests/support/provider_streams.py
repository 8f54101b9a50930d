"""Test helpers for the providers: stream bodies in each vendor's wire format, a fake LLM
that answers successive requests with successive bodies, and access to the shared
captured transcripts (read in place, never copied into the repo)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gptbot.accumulate import ChatAccumulator
from gptbot.config import Config
from gptbot.events import StreamEvent
from gptbot.providers.base import WholeCallNumbering
from tests.support.common import API_KEY, API_SECRET
from tests.support.servers import FakeLLM, RunningHttp, _llm_handler

STREAMS = Path(__file__).resolve().parents[3] / "shared" / "streams"
NO_STREAMS = f"captured transcripts not found at {STREAMS} (shared test data is not in the repo)"


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

    def add(self, delta: str) -> None:
        self.pieces.append(delta)

    def set_state(self, state: str, message: str = "") -> None:
        self.states.append(state)
        self.messages.append(message)

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


# --- captured transcripts -----------------------------------------------------------------


def capture_params(provider: str) -> list[Path | None]:
    """Capture files of one provider, or [None] (one skipped case) when they are absent."""
    if not STREAMS.is_dir():
        return [None]
    found = [
        path
        for path in sorted(STREAMS.glob("*.*"))
        if path.suffix != ".json"
        and path.with_suffix(".json").is_file()
        and json.loads(path.with_suffix(".json").read_text())["provider"] == provider
    ]
    return found or [None]


def load_capture(path: Path | None) -> tuple[bytes, dict[str, Any]]:
    if path is None:
        pytest.skip(NO_STREAMS)
    return path.read_bytes(), json.loads(path.with_suffix(".json").read_text())


def capture_file(name: str) -> tuple[bytes, dict[str, Any]]:
    """One named capture, or skip the test when the shared data is absent."""
    path = STREAMS / name
    return load_capture(path if path.is_file() else None)


def line_end_variants(body: bytes) -> dict[str, bytes]:
    """The capture as recorded, and with the other line ending (LF <-> CRLF)."""
    lf = body.replace(b"\r\n", b"\n")
    return {"LF": lf, "CRLF": lf.replace(b"\n", b"\r\n")}


def split_everywhere(body: bytes) -> Iterator[tuple[int, list[bytes]]]:
    """The body as two reads, for every split point."""
    for at in range(1, len(body)):
        yield at, [body[:at], body[at:]]


class CachedMapper:
    """Memoizes a pure wire mapper: every split point re-frames the whole body, so a
    framing bug still yields a new payload string and is mapped for real."""

    def __init__(self, mapper: Callable[[str], list[StreamEvent]], numbered: bool = False):
        self.mapper = mapper
        self.numbered = numbered  # whole-call formats (Gemini, Ollama)
        self.cache: dict[str, list[StreamEvent]] = {}

    def accumulate(self, payloads: list[str]) -> ChatAccumulator:
        numbering = WholeCallNumbering()
        acc = ChatAccumulator()
        for payload in payloads:
            events = self.cache.get(payload)
            if events is None:
                events = self.cache[payload] = self.mapper(payload)
            acc.add_all(numbering(events) if self.numbered else events)
        return acc
