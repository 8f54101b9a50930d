"""SSE framing beyond the hand-written vectors of test_sse.py: the event type itself, and
a property over generated bodies read in pieces of any size."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptbot.llm.sse import SSEEvent
from tests.llm.test_sse import decode, one_byte_reads


def test_event_field_spacing_and_multi_line_data() -> None:
    body = b"event:ping\ndata: 1\n\nevent:  two\ndata: a\ndata: b\n\ndata: 3\n\n"
    assert [(e.event, e.data) for e in decode(body)] == [
        ("ping", "1"),
        (" two", "a\nb"),  # only one space after the colon is dropped
        ("message", "3"),
    ]


def test_event_is_immutable_and_compares_by_value() -> None:
    event = SSEEvent("a", id="1")
    assert event == SSEEvent("a", "message", "1", None)
    assert hash(event) == hash(SSEEvent("a", id="1"))
    assert repr(event) == "SSEEvent(data='a', event='message', id='1', retry=None)"
    with pytest.raises(AttributeError):
        event.data = "b"  # type: ignore[misc]


# --- property: reads of any size give what one-byte reads (line by line) give ----------------

_LINES = ["data: x", "data:y", "data", "data: {\"a\": \"\u2028é\"}", "event: e", "event:",
          "id: 7", "id", "retry: 5", ": c", "error: e", "other: z", "", "", ""]
_ENDS = ["\n", "\n", "\r\n", "\r"]


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(st.sampled_from(_LINES), st.sampled_from(_ENDS)), max_size=24))
    last = draw(st.sampled_from(["", *_LINES]))  # maybe an unterminated last line
    return ("".join(line + end for line, end in lines) + last).encode()


@settings(max_examples=500, deadline=None)
@given(_bodies(), st.lists(st.integers(1, 60), max_size=4))
def test_any_reads_give_the_line_by_line_events(body: bytes, sizes: list[int]) -> None:
    reads, at = [], 0
    for size in [*sizes, len(body)]:
        reads.append(body[at : at + size])
        at += size
    assert decode(*reads) == decode(*one_byte_reads(body))
