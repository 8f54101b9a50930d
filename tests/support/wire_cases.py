"""Captured transcripts as test cases for every wire format: finding them (read in place,
never copied into the repo), and checking that a format's framing and mapping give the
recorded answer with either line ending and wherever the network splits the body."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from gptbot.core.events import StreamEvent, Usage
from gptbot.core.types import ToolCall
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.ndjson import decode_ndjson
from gptbot.llm.providers.base import WholeCallNumbering
from gptbot.llm.sse import SSEEvent, decode_sse

STREAMS = Path(__file__).resolve().parents[3] / "shared" / "streams"
NO_STREAMS = f"captured transcripts not found at {STREAMS} (shared test data is not in the repo)"

Payload = TypeVar("Payload", bound=Hashable)  # what a wire mapper reads: a data string…
Capture = tuple[bytes, dict[str, Any]]  # body as recorded, and its .json of expectations


# --- finding captures ---------------------------------------------------------------------


def capture_params(*providers: str) -> list[Path | None]:
    """Capture files of the given providers ("openai-compatible/" stands for every provider
    under it), or [None] (one skipped case) when the shared data is absent."""
    if not STREAMS.is_dir():
        return [None]
    found = [
        path
        for path in sorted(STREAMS.glob("*.*"))
        if path.suffix != ".json"
        and path.with_suffix(".json").is_file()
        and _is_one_of(json.loads(path.with_suffix(".json").read_text())["provider"], providers)
    ]
    return found or [None]


def _is_one_of(provider: str, providers: tuple[str, ...]) -> bool:
    return any(
        provider == name or (name[-1:] == "/" and provider.startswith(name)) for name in providers
    )


def capture_fixture(*providers: str) -> Any:
    """A `capture` fixture giving each capture of these providers; assign it to `capture`."""

    @pytest.fixture(params=capture_params(*providers), ids=lambda p: p.name if p else "none")
    def capture(request: pytest.FixtureRequest) -> Capture:
        return load_capture(request.param)

    return capture


def load_capture(path: Path | None) -> Capture:
    if path is None:
        pytest.skip(NO_STREAMS)
    return path.read_bytes(), json.loads(path.with_suffix(".json").read_text())


def capture_file(name: str) -> Capture:
    """One named capture, or skip the test when the shared data is absent."""
    path = STREAMS / name
    return load_capture(path if path.is_file() else None)


def line_end_variants(body: bytes) -> dict[str, bytes]:
    """The capture as recorded, and with the other line ending (LF <-> CRLF)."""
    lf = body.replace(b"\r\n", b"\n")
    return {"LF": lf, "CRLF": lf.replace(b"\n", b"\r\n")}


# --- re-reading a body --------------------------------------------------------------------


def for_every_split(body: bytes, check: Callable[[list[bytes]], None]) -> None:
    """`check` the body as one read, then as two reads for every split point; a failure
    says where the body was split."""
    check([body])
    for at in range(1, len(body)):
        try:
            check([body[:at], body[at:]])
        except AssertionError as exc:
            raise AssertionError(f"split at byte {at}: {exc}") from exc


def sse_events(reads: list[bytes]) -> list[SSEEvent]:
    return list(decode_sse(reads))


def sse_payloads(reads: list[bytes]) -> list[str]:
    return [event.data for event in decode_sse(reads)]


def ndjson_lines(reads: list[bytes]) -> list[str]:
    return list(decode_ndjson(reads))


class CachedMapper(Generic[Payload]):
    """Memoizes a pure wire mapper: every split point re-frames the whole body, so a
    framing bug still yields a new payload and is mapped for real, while identical ones
    need not be JSON-parsed thousands of times (that alone would take most of the time)."""

    def __init__(
        self, mapper: Callable[[Payload], list[StreamEvent]], numbered: bool = False
    ) -> None:
        self.mapper = mapper
        self.numbered = numbered  # whole-call formats (Gemini, Ollama)
        self.cache: dict[Payload, list[StreamEvent]] = {}

    def accumulate(self, payloads: list[Payload]) -> ChatAccumulator:
        numbering = WholeCallNumbering()
        acc = ChatAccumulator()
        for payload in payloads:
            events = self.cache.get(payload)
            if events is None:
                events = self.cache[payload] = self.mapper(payload)
            acc.add_all(numbering(events) if self.numbered else events)
        return acc


# --- one wire format's captures -----------------------------------------------------------


@dataclass(frozen=True)
class WireFormat(Generic[Payload]):
    """How a provider's captures are framed and mapped, and how their .json names things."""

    frame: Callable[[list[bytes]], list[Payload]]  # reads -> the payloads `mapper` takes
    mapper: Callable[[Payload], list[StreamEvent]]
    finish_key: str  # the .json key of the expected finish reason
    count_keys: tuple[str, str]  # expected_usage's input and output token counts
    numbered: bool = False  # calls come whole and are numbered by the provider

    def answer(self, reads: list[bytes]) -> ChatAccumulator:
        return CachedMapper(self.mapper, self.numbered).accumulate(self.frame(reads))

    def check_every_split_point(self, capture: Capture, line_end: str) -> None:
        body, expected = capture
        mapper = CachedMapper(self.mapper, self.numbered)

        def check(reads: list[bytes]) -> None:
            self.check(mapper.accumulate(self.frame(reads)), expected)

        for_every_split(line_end_variants(body)[line_end], check)

    def check(self, acc: ChatAccumulator, expected: dict[str, Any]) -> None:
        """The answer matches the capture's expectations; what they omit must be empty."""
        assert acc.text == expected["expected_text"]
        assert acc.thinking == expected.get("expected_thinking", "")
        assert acc.refusal == expected.get("expected_refusal", "")
        assert acc.finish_reason == expected.get(self.finish_key)
        self._check_calls(acc.tool_calls, expected.get("expected_tool_calls", []))
        self._check_usage(acc.usage, expected.get("expected_usage"))
        assert (acc.error.message if acc.error else None) == expected.get("expected_error")

    def _check_calls(self, calls: list[ToolCall], expected: list[dict[str, Any]]) -> None:
        if not self.numbered:  # streamed calls: ids and argument text exactly as sent
            got = [(c.id, c.name, c.arguments) for c in calls]
            assert got == [(e["id"], e["name"], e["arguments"]) for e in expected]
            return
        # Whole calls carry argument objects; the provider numbers them 0, 1, 2…
        assert [(c.name, json.loads(c.arguments)) for c in calls] == [
            (e["name"], e["arguments"]) for e in expected
        ]
        assert [c.index for c in calls] == list(range(len(expected)))

    def _check_usage(self, usage: Usage | None, expected: dict[str, Any] | None) -> None:
        if expected is None:
            assert usage is None
            return
        assert usage is not None
        assert {key: usage.raw.get(key) for key in expected} == expected
        input_key, output_key = self.count_keys
        assert _in_wire_terms(usage, input_key, output_key) == (
            expected[input_key],
            expected[output_key],
        )


def _in_wire_terms(usage: Usage, input_key: str, output_key: str) -> tuple[int, int]:
    """Our counts (wholes include their parts) in the vendor's own terms: Anthropic's
    input_tokens leave out cache reads and writes, Gemini's candidates leave out thoughts."""
    inp, out = usage.input_tokens or 0, usage.output_tokens or 0
    if input_key == "input_tokens":
        inp -= (usage.cached_input_tokens or 0) + (usage.cache_write_tokens or 0)
    if output_key == "candidatesTokenCount":
        out -= usage.reasoning_tokens or 0
    return inp, out
