"""The usage ledger bills what the provider bills: each stream's usage reports, decoded
through our mappers, normalised to (input, cached input, cache write, output, reasoning),
wholes including their parts; None where the stream does not state a number (billed as 0).
Expectations are written out from the bytes (research notes, table 1.2), not read from the
sidecars, whose plain counts are only checked to agree. Derived cases need no shared data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gptbot.core.events import Finish, StreamEvent, ToolCallDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.generation import generate
from gptbot.llm.providers.anthropic_wire import map_event
from gptbot.llm.providers.gemini_wire import map_chunk
from gptbot.llm.providers.ollama_wire import map_line
from gptbot.llm.providers.openai_wire import map_chat_chunk
from gptbot.llm.tools import Toolbox, make_tool
from tests.support import wire_cases as wire
from tests.support.common import SHARED_STREAMS
from tests.support.provider_streams import RecordingSink

Counts = tuple[int | None, int | None, int | None, int | None, int | None]

# Every capture, by file name: its normalised usage, or None when it reports none.
EXPECTED: dict[str, Counts | None] = {
    "anthropic-basic-no-final-blank-line.sse": (11, None, None, 6, None),
    "anthropic-docs-tool-use.sse": (472, None, None, 89, None),
    "anthropic-extended-thinking.sse": (50, 0, 0, 452, None),  # thinking inside 452, no split
    "anthropic-max-tokens-partial-json.sse": (450, 0, 0, 124, None),
    "anthropic-refusal-empty.sse": (20, None, None, 0, None),  # 0 replaces the placeholder 1
    "anthropic-tool-use.sse": (377, 0, 0, 65, None),
    "azure-chat-content-filter.sse": None,  # include_usage was not requested
    "deepseek-tool-call.sse": (223, 192, None, 43, None),  # 223 = 192 hits + 31 misses
    "gemini-text-crlf.sse": (159, None, None, 22, None),
    "gemini-thought-function-call-crlf.sse": (131, None, None, 110, 95),  # 15 + 95 thoughts
    "mistral-padding-field.sse": (7, None, None, 13, None),
    "mistral-tool-calls-single-chunk.sse": (164, None, None, 25, None),
    "ollama-chat-basic.ndjson": (37, None, None, 37, None),
    "ollama-chat-thinking.ndjson": (69, None, None, 76, None),
    "ollama-chat-tool-calls.ndjson": (218, None, None, 306, None),
    "ollama-generate-midstream-error.ndjson": None,  # no done line
    "openai-chat-basic-usage.sse": (14, None, None, 30, 0),
    "openai-chat-length.sse": (79, None, None, 1, 0),
    "openai-chat-n3-choices.sse": (79, None, None, 42, 0),  # one report for all 3 choices
    "openai-chat-parallel-tool-calls.sse": (149, None, None, 60, 0),
    "openai-chat-refusal.sse": (79, None, None, 11, 0),
    "openai-chat-tool-call.sse": (44, None, None, 16, 0),
    "openrouter-processing-comments.sse": (50, 0, None, 143, 128),
}
# Captures of the OpenAI Responses API, which gptbot does not speak: no mapper to decode them.
UNMAPPED = {f"openai-responses-{name}.sse" for name in
            ("basic-text", "error-rate-limit", "function-call")}
# Re-read at every split point: cache hits, thoughts, a shrinking count, usage with choices.
SPLIT = ["deepseek-tool-call.sse", "gemini-thought-function-call-crlf.sse",
         "anthropic-refusal-empty.sse", "openrouter-processing-comments.sse",
         "ollama-chat-tool-calls.ndjson"]


def counts(usage: Usage | None) -> Counts | None:
    if usage is None:
        return None
    return (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens,
            usage.output_tokens, usage.reasoning_tokens)


# Each wire format: how a body is framed, its mapper, whether calls come whole (numbered).
FORMATS: dict[str, tuple[Callable[[list[bytes]], list[Any]], Callable[[Any], Any], bool]] = {
    "chat": (wire.sse_events, lambda event: map_chat_chunk(event.data, event.event), False),
    "anthropic": (wire.sse_payloads, map_event, False),
    "gemini": (wire.sse_payloads, map_chunk, True),
    "ollama": (wire.ndjson_lines, map_line, True),
}


CHAT_PROVIDERS = {"openai-chat", "azure-openai-chat", "openai-compatible"}


def _kind(sidecar: dict[str, Any]) -> str:
    provider = sidecar["provider"].split("/")[0]  # openai-compatible/<server>
    return "chat" if provider in CHAT_PROVIDERS else provider


def _decoded(kind: str, reads: list[bytes], mapper: Any = None) -> Counts | None:
    frame, map_payload, numbered = FORMATS[kind]
    mapper = mapper or wire.CachedMapper(map_payload, numbered)
    return counts(mapper.accumulate(frame(reads)).usage)


def _in_wire_names(kind: str, inp: int, cached: int, written: int, out: int, reasoning: int
                   ) -> dict[str, int]:
    """Our counts as the sidecar's expected_usage names them."""
    return {
        "chat": {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out},
        # Anthropic's input_tokens is the uncached rest of the prompt.
        "anthropic": {"input_tokens": inp - cached - written, "output_tokens": out},
        # Gemini's thoughts are output but outside candidatesTokenCount; the total has them.
        "gemini": {"promptTokenCount": inp, "candidatesTokenCount": out - reasoning,
                   "totalTokenCount": inp + out},
        "ollama": {"prompt_eval_count": inp, "eval_count": out},
    }[kind]


# --- captured streams ------------------------------------------------------------------------


def test_every_capture_has_an_expectation() -> None:
    if not SHARED_STREAMS.is_dir():
        pytest.skip(wire.NO_STREAMS)
    names = {p.name for p in SHARED_STREAMS.glob("*.*") if p.with_suffix(".json").is_file()}
    names -= {p.name for p in SHARED_STREAMS.glob("*.json")}
    assert names == set(EXPECTED) | UNMAPPED  # a new capture needs its numbers here


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_usage_is_the_bill(name: str) -> None:
    body, sidecar = wire.capture_file(name)
    ours, reported = EXPECTED[name], sidecar.get("expected_usage")
    assert _decoded(_kind(sidecar), [body]) == ours
    assert (reported is None) == (ours is None)
    if reported is not None and ours is not None:  # the sidecar's plain counts agree
        derived = _in_wire_names(_kind(sidecar), *(n or 0 for n in ours))
        assert {key: derived[key] for key in reported} == reported


@pytest.mark.parametrize("line_end", ["LF", "CRLF"])
@pytest.mark.parametrize("name", SPLIT)
def test_usage_at_every_split_point(name: str, line_end: str) -> None:
    body, sidecar = wire.capture_file(name)
    kind = _kind(sidecar)
    mapper = wire.CachedMapper(FORMATS[kind][1], FORMATS[kind][2])

    def check(reads: list[bytes]) -> None:
        assert _decoded(kind, reads, mapper) == EXPECTED[name]

    wire.for_every_split(wire.line_end_variants(body)[line_end], check)


# --- derived cases (public recordings named in the notes, §1.4) ------------------------------


def _accumulated(mapper: Callable[[str], list[StreamEvent]], payloads: list[Any]) -> Counts | None:
    acc = ChatAccumulator()
    for payload in payloads:
        acc.add_all(mapper(json.dumps(payload)))
    return counts(acc.usage)


def _tokens(fresh: int, output: int, read: int = 0, written: int = 0) -> dict[str, Any]:
    return {"input_tokens": fresh, "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read, "output_tokens": output}


def _iterations(*kinds_and_counts: tuple[str, int, int, int]) -> list[dict[str, Any]]:
    return [{**_tokens(fresh, out, read), "type": kind} for kind, fresh, out, read in
            kinds_and_counts]


# message_start's usage, then each message_delta's usage -> the normalised bill.
ANTHROPIC: dict[str, tuple[list[dict[str, Any]], Counts]] = {
    # pydantic-ai test_anthropic_compaction_usage_with_cache_streaming: the delta's top
    # level is the last iteration only (181/8, cache read 0); the bill is both.
    "compaction-cache-read": ([_tokens(100, 7, read=55096), {**_tokens(181, 8), "iterations":
        _iterations(("compaction", 100, 83, 55096), ("message", 181, 8, 0))}],
        (55377, 55096, 0, 91, None)),
    # vpaturel/claude-wrapper-secure: the delta repeats the input side as totals.
    "cache-write": ([{**_tokens(8, 2, written=10426), "cache_creation": {
        "ephemeral_5m_input_tokens": 10426, "ephemeral_1h_input_tokens": 0}},
        _tokens(8, 501, written=10426)], (10434, 0, 10426, 501, None)),
    # Server tools: the delta's larger totals replace the start's, never add to them.
    "web-search": ([_tokens(2050, 1), {**_tokens(31772, 644), "server_tool_use":
        {"web_search_requests": 2}}], (31772, 0, 0, 644, None)),
    # An advisor iteration is another model's call, billed at its own rates.
    "advisor": ([_tokens(1128, 1), {**_tokens(2411, 145), "iterations": _iterations(
        ("message", 1128, 135, 0), ("advisor_message", 2543, 18, 0), ("message", 1283, 10, 0)),
        "output_tokens_details": {"thinking_tokens": 47}}], (2411, 0, 0, 145, 47)),
    # A delta restating the input side replaces all of it; one without it keeps the start's.
    "restated-input": ([{"input_tokens": 8, "cache_read_input_tokens": 1000, "output_tokens": 1},
        {"input_tokens": 8, "output_tokens": 30}], (8, 0, 0, 30, None)),
    "output-only-delta": ([{"input_tokens": 8, "cache_read_input_tokens": 1000,
        "output_tokens": 1}, {"output_tokens": 30}], (1008, 1000, None, 30, None)),
}


@pytest.mark.parametrize(("usages", "expected"), ANTHROPIC.values(), ids=ANTHROPIC)
def test_anthropic(usages: list[dict[str, Any]], expected: Counts) -> None:
    start = {"type": "message_start", "message": {"usage": usages[0]}}
    deltas = [{"type": "message_delta", "delta": {}, "usage": u} for u in usages[1:]]
    assert _accumulated(map_event, [start, *deltas]) == expected


GROQ = {"queue_time": 0.00491786, "prompt_tokens": 304, "prompt_time": 0.01460151,
        "completion_tokens": 49, "total_tokens": 353,
        "completion_tokens_details": {"reasoning_tokens": 23}}
HALVES = {"completion_tokens": 64, "prompt_cache_hit_tokens": 256, "prompt_cache_miss_tokens": 36}
WITH_CHOICE = {"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}]}
# One chunk -> the normalised bill.
CHAT: dict[str, tuple[dict[str, Any], Counts]] = {
    "openai-cached": ({"choices": [], "usage": {
        "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 192}}}, (2006, 1920, None, 300, 192)),
    # OpenRouter -> xAI grok-4, on a chunk with choices; its own cost prices 679 as cached.
    "openrouter-cached": ({**WITH_CHOICE, "usage": {
        "prompt_tokens": 687, "completion_tokens": 187, "total_tokens": 874, "cost": 0.00333825,
        "prompt_tokens_details": {"cached_tokens": 679},
        "completion_tokens_details": {"reasoning_tokens": 118}}}, (687, 679, None, 187, 118)),
    "openrouter-cache-write": ({"choices": [], "usage": {
        "prompt_tokens": 1000, "completion_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 900}}},
        (1000, 0, 900, 5, None)),
    # Groq may send the same usage twice in one chunk: counted once.
    "groq-both": ({**WITH_CHOICE, "usage": GROQ, "x_groq": {"usage": GROQ}},
                  (304, None, None, 49, 23)),
    "groq-x_groq": ({**WITH_CHOICE, "x_groq": {"id": "req_1", "usage": GROQ}},
                    (304, None, None, 49, 23)),
    "deepseek": ({**WITH_CHOICE, "usage": {**HALVES, "prompt_tokens": 292, "total_tokens": 356,
        "prompt_tokens_details": {"cached_tokens": 256}}}, (292, 256, None, 64, None)),
    "deepseek-halves": ({"choices": [], "usage": HALVES}, (292, 256, None, 64, None)),
}


@pytest.mark.parametrize(("chunk", "expected"), CHAT.values(), ids=CHAT)
def test_chat(chunk: dict[str, Any], expected: Counts) -> None:
    assert _accumulated(map_chat_chunk, [chunk]) == expected


CACHED = {"promptTokenCount": 88775, "cachedContentTokenCount": 88759}
# Successive usageMetadata snapshots -> the normalised bill.
GEMINI: dict[str, tuple[list[dict[str, Any]], Counts]] = {
    # prism use-cache-with-text-2 as the last snapshot: the prompt includes the cached part.
    "cached": ([{**CACHED, "candidatesTokenCount": 40, "totalTokenCount": 88815},
                {**CACHED, "candidatesTokenCount": 116, "totalTokenCount": 88891}],
               (88775, 88759, None, 116, None)),
    # pydantic-ai web search: 17 + 102 tool prompt + 241 + 412 thoughts = total 772.
    "tool-prompt": ([{"promptTokenCount": 17, "candidatesTokenCount": 241,
                      "totalTokenCount": 772, "toolUsePromptTokenCount": 102,
                      "thoughtsTokenCount": 412}], (119, None, None, 653, 412)),
    # Thought-only snapshots (no candidatesTokenCount yet), then llm-gemini#97's two events.
    "thoughts-only": ([{"promptTokenCount": 5, "totalTokenCount": 5 + n,
                        "thoughtsTokenCount": n} for n in (68, 186)], (5, None, None, 186, 186)),
    "thoughts-then-text": ([{"promptTokenCount": 5, "candidatesTokenCount": n,
                             "totalTokenCount": 191 + n, "thoughtsTokenCount": 186}
                            for n in (39, 44)], (5, None, None, 230, 186)),
}


@pytest.mark.parametrize(("snapshots", "expected"), GEMINI.values(), ids=GEMINI)
def test_gemini(snapshots: list[dict[str, Any]], expected: Counts) -> None:
    assert _accumulated(map_chunk, [{"usageMetadata": u} for u in snapshots]) == expected


def test_ollama_prompt_served_from_its_cache() -> None:
    # A fully cached prompt leaves prompt_eval_count out: nothing was evaluated.
    done = {"message": {"content": ""}, "done": True, "eval_count": 12}
    assert _accumulated(map_line, [done]) == (0, None, None, 12, None)


def test_a_stated_count_replaces_an_older_one_even_downward() -> None:
    older = Usage(20, 1, {"a": 1}, cached_input_tokens=5, reasoning_tokens=1)
    newer = Usage(None, 0, {"b": 2}, cache_write_tokens=3, reasoning_tokens=0)
    assert older.updated(newer) == Usage(20, 0, {"a": 1, "b": 2}, 5, 3, 0)


# --- several model turns of one answer ---------------------------------------------------------


@dataclass
class Turns:
    turns: list[list[StreamEvent]]
    name: str = "fake"

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        yield from self.turns.pop(0)


def lookup() -> str:
    """Look something up."""
    return "found"


@pytest.mark.parametrize(("first", "second", "answer"), [
    (Usage(1000, 10, {}, 800, None, 4), Usage(1100, 20, {"last": 1}, 1000, 50, None),
     Usage(2100, 30, {"last": 1}, 1800, 50, 4)),
    (Usage(9, 2), Usage(30, 4, {"last": 1}), Usage(39, 6, {"last": 1})),  # None + None: None
])
def test_every_count_is_added_over_the_turns(first: Usage, second: Usage, answer: Usage) -> None:
    call = ToolCallDelta(0, "c1", "lookup", "{}")
    provider = Turns([[call, Finish("tool_calls"), first], [Finish("stop"), second]])
    request = ChatRequest("m", (ChatMessage("user", "hi"),))
    result = generate(provider, request, RecordingSink(), tools=Toolbox([make_tool(lookup)]))
    assert (result.usage, result.tool_rounds) == (answer, 1)
