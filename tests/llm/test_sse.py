"""SSE framing: hand-written edge cases, then every captured transcript re-chunked."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from openai._streaming import SSEDecoder as OpenAISSEDecoder

from gptbot.llm.sse import SSEDecoder, SSEEvent, decode_sse
from tests.support.common import SHARED_STREAMS as STREAMS

SSE_FILES = sorted(STREAMS.glob("*.sse")) if STREAMS.is_dir() else []
NO_STREAMS = f"captured transcripts not found at {STREAMS} (shared test data is not in the repo)"


def decode(*chunks: bytes) -> list[SSEEvent]:
    return list(decode_sse(chunks))


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in decode(*chunks)]


def one_byte_reads(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# --- research §1 checklist, one vector per row ----------------------------------------


@pytest.mark.parametrize("body", [b'data:{"a":1}\n\n', b'data: {"a":1}\n\n'])
def test_data_with_or_without_space(body: bytes) -> None:
    assert decode(body) == [SSEEvent('{"a":1}')]


def test_only_one_space_is_removed() -> None:
    assert datas(b"data:  x\n\n") == [" x"]


def test_comments_are_ignored() -> None:
    body = b": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: x\n:ping\n\n"
    assert decode(body) == [SSEEvent("x")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings(eol: bytes) -> None:
    body = b"event: a" + eol + b"data: 1" + eol + eol + b"data: 2" + eol + b"data: 3" + eol + eol
    assert decode(body) == [SSEEvent("1", "a"), SSEEvent("2\n3")]


def test_crlf_split_across_reads() -> None:
    # The CR ends one read, its LF starts the next: one line end, not an extra blank line.
    events = decode(b"data: 1\r", b"\ndata: 2\r\n\r", b"\n")
    assert events == [SSEEvent("1\n2")]


def test_lone_cr_at_end_of_read_is_a_line_end() -> None:
    assert decode(b"data: 1\r", b"\r", b"data: 2\r\r") == [SSEEvent("1"), SSEEvent("2")]


def test_cr_then_empty_read_then_lf() -> None:
    assert decode(b"data: 1\r", b"", b"\n\r\n") == [SSEEvent("1")]


def test_multi_line_data_is_joined_with_lf() -> None:
    body = b'data: {\ndata: "foo":\ndata: true}\n\n'
    assert datas(body) == ['{\n"foo":\ntrue}']


def test_empty_data_lines_contribute_empty_lines() -> None:
    body = b'data: {\ndata: "foo":\ndata: \ndata:\ndata: true}\n\n'
    assert datas(body) == ['{\n"foo":\n\n\ntrue}']


def test_bare_data_field_without_colon() -> None:
    assert datas(b"data\ndata\n\n") == ["\n"]
    assert datas(b"data\n\n") == [""]


def test_escaped_double_newline_in_json_is_not_a_separator() -> None:
    body = b'data: {"content": "line1\\n\\nline2"}\n\n'
    assert datas(body) == ['{"content": "line1\\n\\nline2"}']


def test_raw_u2028_is_not_a_line_break() -> None:
    body = (
        b'data: {"content": " \xe2\x80\xa8"}\n\ndata: {"content": "\xe2\x80\xa9\x85\x0b\x0c"}\n\n'
    )
    assert datas(body) == [
        '{"content": " \u2028"}',
        '{"content": "\u2029\ufffd\x0b\x0c"}',  # lone 0x85 is invalid UTF-8 -> U+FFFD
    ]


def test_multi_byte_character_split_across_reads() -> None:
    # "известни" cut mid-character, as in openai-python's test_streaming.py.
    chunks = [b'data: {"content": "', b"\xd0", b"\xb8\xd0\xb7\xd0", b"\xb2\xd0\xb5\xd1\x81\xd1"]
    chunks += [b"\x82\xd0\xbd\xd0\xb8", b'"}\n\n']
    expected = '{"content": "' + bytes.fromhex("d0b8d0b7d0b2d0b5d181d182d0bdd0b8").decode() + '"}'
    assert datas(*chunks) == [expected]


def test_invalid_utf8_is_replaced() -> None:
    assert datas(b"data: a\xffb\n\n") == ["a\ufffdb"]


def test_one_leading_bom_is_stripped() -> None:
    assert decode(b"\xef\xbb\xbfdata: x\n\n") == [SSEEvent("x")]
    assert decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [SSEEvent("x")]
    # Only one: a second BOM makes the line's field name "\ufeffdata", which is ignored.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [SSEEvent("y")]


def test_bom_later_in_the_stream_is_kept() -> None:
    assert datas(b"data: \xef\xbb\xbfx\n\n") == ["\ufeffx"]


def test_event_with_only_event_field_is_not_dispatched() -> None:
    body = b"event: ping\n\ndata: x\n\n"
    # The event name is reset too, so the next event is a plain "message".
    assert decode(body) == [SSEEvent("x")]


def test_unterminated_last_event_is_flushed_at_close() -> None:
    assert decode(b"event: message_stop\ndata: {}") == [SSEEvent("{}", "message_stop")]
    assert decode(b"event: message_stop\ndata: {}\n") == [SSEEvent("{}", "message_stop")]


def test_unterminated_non_data_line_dispatches_nothing() -> None:
    assert decode(b"data: 1\n\nevent: x") == [SSEEvent("1")]
    assert decode(b"data: 1\n\n: comment") == [SSEEvent("1")]


def test_extra_and_leading_blank_lines_are_harmless() -> None:
    assert datas(b"\n\n\ndata: 1\n\n\n\n\ndata: 2\n\n\n") == ["1", "2"]


def test_llama_cpp_error_line_is_its_own_event() -> None:
    body = b'data: {"a":1}\n\nerror: {"code":500,"message":"boom"}\n\n'
    assert decode(body) == [SSEEvent('{"a":1}'), SSEEvent('{"code":500,"message":"boom"}', "error")]


def test_error_line_does_not_disturb_a_pending_event() -> None:
    events = decode(b"data: a\nerror:oops\ndata: b\n\n")
    assert events == [SSEEvent("oops", "error"), SSEEvent("a\nb")]


def test_event_field_names_the_event_and_resets_after_dispatch() -> None:
    body = b"event: content_block_delta\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\n"
    assert [(e.event, e.data) for e in decode(body)] == [
        ("content_block_delta", "1"),
        ("message", "2"),
        ("message", "3"),
    ]


def test_id_persists_across_events() -> None:
    body = b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"
    assert [(e.id, e.data) for e in decode(body)] == [("7", "a"), ("7", "b"), ("", "c")]


def test_id_with_nul_is_ignored() -> None:
    assert [e.id for e in decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")] == ["1", "1"]


def test_retry_digits_only_and_persists() -> None:
    body = b"data: a\n\nretry: 3000\ndata: b\n\nretry: 1.5\ndata: c\n\nretry: \xc2\xb2\ndata: d\n\n"
    assert [e.retry for e in decode(body)] == [None, 3000, 3000, 3000]


def test_unknown_fields_and_first_colon_split() -> None:
    body = b"foo: bar\ndata: a: b:c\nDATA: ignored\n\n"
    assert datas(body) == ["a: b:c"]


def test_feed_returns_events_as_they_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n") == []
    assert decoder.feed(b"\ndata: 2") == [SSEEvent("1")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\n") == [SSEEvent("2")]
    assert decoder.close() == []


def test_long_line_over_many_reads() -> None:
    payload = b"x" * 100_000
    chunks = [b"data: "] + [payload[i : i + 7] for i in range(0, len(payload), 7)] + [b"\n\n"]
    assert datas(*chunks) == ["x" * 100_000]


def test_decoder_can_be_reused_after_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a") == []
    assert decoder.close() == [SSEEvent("a", id="1")]
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [SSEEvent("b", id="1")]


# --- captured transcripts: framing must not depend on how the bytes arrive -------------


def _reference(body: bytes) -> list[SSEEvent]:
    """Our decoder on the whole body, checked against the openai SDK's decoder on the same
    bytes, so that every split below is compared with an independent reading."""
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.close()
    assert [(e.event, e.data, e.id) for e in events] == _openai_sdk(body)
    return events


def _openai_sdk(body: bytes) -> list[tuple[str, str, str | None]]:
    """(event, data, id) as `openai._streaming.SSEDecoder` reads `body`. Two known
    differences are bridged: the SDK drops an event the stream leaves unterminated (we flush
    it at the end, so it gets the blank line it lacks), and it also dispatches events with no
    data lines (the spec does not; every capture's events carry data, test_capture_has_events)."""
    events = OpenAISSEDecoder().iter_bytes(iter([body, b"\n\n"]))
    return [(e.event or "message", e.data, e.id) for e in events if e.data]


def _two_pieces(body: bytes, at: int) -> list[SSEEvent]:
    decoder = SSEDecoder()
    return decoder.feed(body[:at]) + decoder.feed(body[at:]) + decoder.close()


def _to_lf(body: bytes) -> bytes:
    return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _random_pieces(body: bytes, seed: int, largest: int) -> list[bytes]:
    rng = random.Random(seed)
    pieces, at = [], 0
    while at < len(body):
        size = rng.randint(1, largest)
        pieces.append(body[at : at + size])
        at += size
    return pieces


PARAMS: list[Path | None] = [*SSE_FILES] or [None]  # one skipped case when absent


@pytest.fixture(params=PARAMS, ids=lambda p: p.name if p else "none")
def body(request: pytest.FixtureRequest) -> bytes:
    if request.param is None:
        pytest.skip(NO_STREAMS)
    data: bytes = request.param.read_bytes()
    return data


def test_capture_has_events(body: bytes) -> None:
    events = _reference(body)
    assert events
    assert all(event.data for event in events)  # every capture has non-empty payloads


def test_capture_every_split_point(body: bytes) -> None:
    expected = _reference(body)
    for at in range(1, len(body)):
        assert _two_pieces(body, at) == expected, f"split at byte {at}"


def test_capture_one_byte_and_random_reads(body: bytes) -> None:
    expected = _reference(body)
    assert decode(*one_byte_reads(body)) == expected
    for seed in range(20):
        assert decode(*_random_pieces(body, seed, largest=64)) == expected, f"seed {seed}"


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_capture_line_endings(body: bytes, eol: bytes) -> None:
    expected = _reference(body)
    converted = _to_lf(body).replace(b"\n", eol)
    assert _reference(converted) == expected
    assert decode(*one_byte_reads(converted)) == expected
    for seed in range(5):
        assert decode(*_random_pieces(converted, seed, largest=16)) == expected, f"seed {seed}"
    # Splits right before, inside and after each line end (a CRLF cut in half, a CR
    # ending a read) are where the risk lies; every other split point is covered above.
    ends = {i for i, byte in enumerate(converted) if byte in b"\r\n"}
    for at in sorted({at for i in ends for at in (i, i + 1, i + 2) if 0 < at < len(converted)}):
        assert _two_pieces(converted, at) == expected, f"split at byte {at}"


# --- captured transcripts: the answer text recorded beside each capture -------------------


def _answer_text(provider: str, events: list[SSEEvent]) -> str:
    """The assistant's answer as the sidecar's `expected_text` defines it (choice 0; no
    reasoning, thinking or refusal), read straight from the JSON payloads, without gptbot's
    wire modules."""
    parts: list[str] = []
    for event in events:
        if event.data.strip() == "[DONE]":
            continue
        payload = json.loads(event.data)
        if provider == "anthropic":
            delta = payload.get("delta") or {}
            if payload.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
                parts.append(delta["text"])
        elif provider == "gemini":
            for candidate in payload.get("candidates", []):
                if candidate.get("index", 0) == 0:
                    parts += [
                        part["text"]
                        for part in candidate.get("content", {}).get("parts", [])
                        if "text" in part and not part.get("thought")
                    ]
        elif provider == "openai-responses":
            if payload.get("type") == "response.output_text.delta":
                parts.append(payload["delta"])
        else:  # Chat Completions: OpenAI, Azure and the OpenAI-compatible servers
            for choice in payload.get("choices") or []:
                content = (choice.get("delta") or {}).get("content")
                if choice.get("index", 0) == 0 and isinstance(content, str):
                    parts.append(content)
    return "".join(parts)


@pytest.fixture(params=PARAMS, ids=lambda p: p.name if p else "none")
def recorded(request: pytest.FixtureRequest) -> tuple[bytes, dict]:
    """A capture's bytes and its sidecar (`expected_text`, `provider`, ...)."""
    if request.param is None:
        pytest.skip(NO_STREAMS)
    sidecar = json.loads(request.param.with_suffix(".json").read_text())
    return request.param.read_bytes(), sidecar


def test_capture_text_is_the_recorded_expected_text(recorded: tuple[bytes, dict]) -> None:
    body, sidecar = recorded
    provider, expected = sidecar["provider"], sidecar["expected_text"]
    assert _answer_text(provider, decode(body)) == expected
    assert _answer_text(provider, decode(*one_byte_reads(body))) == expected
    crlf = _to_lf(body).replace(b"\n", b"\r\n")
    assert _answer_text(provider, decode(*_random_pieces(crlf, 1, largest=16))) == expected
