"""The legacy ChatGPT web stream: cumulative messages → text deltas of the new suffix.

No capture of this stream is in the shared data, so the bodies below are written in the
shapes recorded in the research notes (Dec 2022: `message.role`, Python json.dumps
spacing, \\u escapes; 2023: `message.author.role`, echoed user message, finish_details).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptbot.accumulate import ChatAccumulator
from gptbot.events import Finish, StreamError, TextDelta
from gptbot.providers.chatgpt_legacy import ChatGPTWebDecoder
from tests.support.wire_cases import for_every_split, sse_payloads


def event_2022(parts: list[str], error: Any = None) -> str:
    message = {
        "id": "f17731c2",
        "role": "assistant",
        "user": None,
        "create_time": None,
        "content": {"content_type": "text", "parts": parts},
        "end_turn": None,
        "weight": 1.0,
        "metadata": {},
        "recipient": "all",
    }
    return json.dumps({"message": message, "conversation_id": "5d6bd712", "error": error})


def event_2023(role: str, text: str, finish: str | None = None) -> str:
    metadata = {"finish_details": {"type": finish, "stop": "<|im_end|>"}} if finish else {}
    message = {
        "id": "m1",
        "author": {"role": role, "name": None, "metadata": {}},
        "content": {"content_type": "text", "parts": [text]},
        "status": "finished_successfully" if finish else "in_progress",
        "end_turn": bool(finish),
        "metadata": metadata,
    }
    return json.dumps({"message": message, "conversation_id": "c1", "error": None})


def body(*payloads: str) -> bytes:
    return "".join(f"data: {p}\n\n" for p in [*payloads, "[DONE]"]).encode()


BODY_2022 = body(
    event_2022([]),
    event_2022(["你好"]),
    event_2022(["你好\uff01我是"]),
    event_2022(["你好\uff01我是 ChatGPT。"]),
)
BODY_2023 = body(
    event_2023("user", "hi"),
    event_2023("assistant", "Hel"),
    event_2023("assistant", "Hello there"),
    event_2023("assistant", "Hello there!", finish="stop"),
)


def decode(reads: list[bytes]) -> ChatAccumulator:
    mapper, acc = ChatGPTWebDecoder(), ChatAccumulator()  # the mapper keeps state: no cache
    for data in sse_payloads(reads):
        acc.add_all(mapper.map(data))
    return acc


def test_each_event_yields_only_the_new_suffix() -> None:
    decoder = ChatGPTWebDecoder()
    assert decoder.map(event_2022([])) == []
    assert decoder.map(event_2022(["你好"])) == [TextDelta("你好")]
    assert decoder.map(event_2022(["你好"])) == []  # repeated: nothing new
    assert decoder.map(event_2022(["你好\uff01"])) == [TextDelta("\uff01")]
    assert decoder.map("[DONE]") == []


def test_2023_variant_skips_echoed_messages_and_reports_finish() -> None:
    decoder = ChatGPTWebDecoder()
    assert decoder.map(event_2023("user", "hi")) == []
    assert decoder.map(event_2023("assistant", "Hi")) == [TextDelta("Hi")]
    assert decoder.map(event_2023("assistant", "Hi!", "stop")) == [TextDelta("!"), Finish("stop")]


def test_rewrites_are_not_emitted() -> None:
    decoder = ChatGPTWebDecoder()
    decoder.map(event_2022(["Hello wrld"]))
    assert decoder.map(event_2022(["Hello world"])) == []
    assert decoder.map(event_2022(["Hello wrld!"])) == [TextDelta("!")]


def test_error_string() -> None:
    assert ChatGPTWebDecoder().map(event_2022([], error="Too many requests")) == [
        StreamError("Too many requests")
    ]


@pytest.mark.parametrize("data", ["{", "[]"])
def test_unreadable_events_raise_value_error(data: str) -> None:
    with pytest.raises(ValueError, match="ChatGPT event"):
        ChatGPTWebDecoder().map(data)


@pytest.mark.parametrize(
    ("stream", "text", "finish"),
    [(BODY_2022, "你好\uff01我是 ChatGPT。", None), (BODY_2023, "Hello there!", "stop")],
    ids=["2022", "2023"],
)
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_final_text_at_every_split_point(
    stream: bytes, text: str, finish: str | None, line_end: bytes
) -> None:
    def check(reads: list[bytes]) -> None:
        acc = decode(reads)
        assert (acc.text, acc.finish_reason) == (text, finish)

    for_every_split(stream.replace(b"\n", line_end), check)
