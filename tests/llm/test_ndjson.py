"""NDJSON line splitting: edge cases, then every Ollama capture at every split point."""

from __future__ import annotations

import pytest

from gptbot.llm.ndjson import NDJSONDecoder, decode_ndjson
from tests.support.wire_cases import Capture, capture_fixture, for_every_split, line_end_variants


def lines(*chunks: bytes) -> list[str]:
    return list(decode_ndjson(chunks))


def test_lines_across_reads_and_unterminated_last_line() -> None:
    assert lines(b'{"a":', b'1}\n{"b"', b":2}\n", b'{"c":3}') == ['{"a":1}', '{"b":2}', '{"c":3}']


def test_crlf_blank_and_whitespace_lines_are_dropped() -> None:
    assert lines(b"{}\r\n\r\n  \n{}\r", b"\n") == ["{}", "{}"]


def test_multibyte_character_split_across_reads() -> None:
    body = '{"t":"известни"}\n'.encode()
    assert lines(*[body[i : i + 1] for i in range(len(body))]) == ['{"t":"известни"}']


def test_unicode_line_separators_inside_json_do_not_split() -> None:
    body = '{"t":"a\u2028b\u0085c"}\n'.encode()
    assert lines(body) == ['{"t":"a\u2028b\u0085c"}']


def test_feed_returns_only_completed_lines() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"a"') == []
    assert decoder.feed(b":1}\n{") == ['{"a":1}']
    assert decoder.close() == ["{"]
    assert decoder.close() == []


capture = capture_fixture("ollama")


@pytest.mark.parametrize("line_end", ["LF", "CRLF"])
def test_every_split_point_gives_the_same_lines(capture: Capture, line_end: str) -> None:
    recorded, _ = capture
    expected = [line for line in recorded.decode().split("\n") if line]

    def check(reads: list[bytes]) -> None:
        assert lines(*reads) == expected

    for_every_split(line_end_variants(recorded)[line_end], check)
