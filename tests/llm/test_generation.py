"""generate(): one streamed turn without tools; with a toolbox, the tool loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from gptbot.core.errors import ProviderError
from gptbot.core.events import (
    Finish,
    RefusalDelta,
    Status,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.core.states import EXTERNAL_SOURCES
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.generation import TOOL_LIMIT, generate
from gptbot.llm.tools import Toolbox, ToolContext, make_tool
from tests.support.provider_streams import RecordingSink

REQUEST = ChatRequest("m", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")))


@dataclass
class TurnByTurn:
    """A provider answering the n-th request with `turns[n]`; keeps every request."""

    turns: list[list[StreamEvent]]
    requests: list[ChatRequest] = field(default_factory=list)
    name: str = "fake"

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        yield from self.turns[min(len(self.requests), len(self.turns)) - 1]


def lookup(order_id: str, context: ToolContext) -> str:
    """Order status."""
    return f"{order_id} shipped to {context.user_name}"


def failing() -> str:
    """Always fails."""
    raise RuntimeError("backend down")


TOOLS = Toolbox([make_tool(lookup), make_tool(failing)])
CALL = [
    ToolCallDelta(0, None, "lookup", '{"order_id":'),
    ToolCallDelta(0, None, None, ' "A-1"}'),
    Finish("tool_calls"),
    Usage(10, 3),
]


# --- without tools ----------------------------------------------------------------------


def test_streams_text_and_reports_finish_and_usage() -> None:
    provider = TurnByTurn(
        [[ThinkingDelta("hmm"), TextDelta("Hel"), TextDelta("lo"), Finish("stop"), Usage(9, 2)]]
    )
    sink = RecordingSink()
    result = generate(provider, REQUEST, sink)
    assert (sink.pieces, result.text, result.finish_reason) == (["Hel", "lo"], "Hello", "stop")
    assert (result.usage, result.note, result.tool_rounds) == (Usage(9, 2), "", 0)
    assert provider.requests[0].tools == ()


def test_refusal_is_shown_when_there_is_no_text() -> None:
    sink = RecordingSink()
    result = generate(
        TurnByTurn([[RefusalDelta("I can't"), RefusalDelta(" help.")]]), REQUEST, sink
    )
    assert sink.text == result.text == "I can't help."


def test_error_event_raises_and_keeps_what_was_shown() -> None:
    sink = RecordingSink()
    with pytest.raises(ProviderError, match="Overloaded"):
        generate(TurnByTurn([[TextDelta("par"), StreamError("Overloaded")]]), REQUEST, sink)
    assert sink.text == "par"


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("length", "cut short"),
        ("MAX_TOKENS", "cut short"),
        ("content_filter", "filter"),
        ("SAFETY", "filter"),
        ("refusal", "declined"),
        ("stop", ""),
    ],
)
def test_notes_for_how_an_answer_ended(reason: str, words: str) -> None:
    result = generate(TurnByTurn([[TextDelta("x"), Finish(reason)]]), REQUEST, RecordingSink())
    assert words in result.note and bool(result.note) == bool(words)


def test_tool_calls_without_a_toolbox_just_end_the_answer() -> None:
    provider = TurnByTurn([CALL])
    result = generate(provider, REQUEST, RecordingSink())
    assert (result.text, len(provider.requests)) == ("", 1)


# --- with tools --------------------------------------------------------------------------


def test_tool_round_trip() -> None:
    provider = TurnByTurn(
        [[TextDelta("Checking."), *CALL], [TextDelta("It shipped."), Finish("stop"), Usage(30, 4)]]
    )
    sink = RecordingSink()
    context = ToolContext("messaging", "general", "alice", "Alice")
    result = generate(provider, REQUEST, sink, tools=TOOLS, context=context)
    assert result.text == sink.text == "Checking.\n\nIt shipped."
    assert EXTERNAL_SOURCES in sink.states
    assert (result.tool_rounds, result.finish_reason) == (1, "stop")
    assert result.usage == Usage(40, 7)
    first, second = provider.requests
    assert [spec.name for spec in first.tools] == ["lookup", "failing"]
    assistant, result_message = second.messages[2:]
    assert assistant.role == "assistant" and assistant.content == "Checking."
    (call,) = assistant.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == (
        "call_0_0",
        "lookup",
        {"order_id": "A-1"},
    )
    assert result_message == ChatMessage(
        "tool", "A-1 shipped to Alice", tool_call_id="call_0_0", name="lookup"
    )


def test_tool_errors_go_back_to_the_model() -> None:
    bad = [
        ToolCallDelta(0, "t1", "failing", "{}"),
        ToolCallDelta(1, "t2", "missing", "{}"),
        ToolCallDelta(2, "t3", "lookup", "{oops"),
    ]
    provider = TurnByTurn([bad, [TextDelta("Sorry, the shop is down.")]])
    result = generate(provider, REQUEST, RecordingSink(), tools=TOOLS)
    outputs = [m.content for m in provider.requests[1].messages if m.role == "tool"]
    assert outputs[0] == "Error: RuntimeError: backend down"
    assert outputs[1].startswith("Error: there is no tool named 'missing'")
    assert outputs[2].startswith("Error: the arguments are not valid JSON")
    assert result.text == "Sorry, the shop is down."


def test_round_limit() -> None:
    provider = TurnByTurn([CALL])  # asks for the tool forever
    result = generate(provider, REQUEST, RecordingSink(), tools=TOOLS, max_rounds=2)
    assert len(provider.requests) == 3 and result.tool_rounds == 2
    assert result.finish_reason == TOOL_LIMIT and "more tool calls" in result.note


def test_no_rounds_or_no_tools_means_tools_are_not_offered() -> None:
    for tools, rounds in ((TOOLS, 0), (Toolbox(), 4)):
        provider = TurnByTurn([[TextDelta("plain")]])
        generate(provider, REQUEST, RecordingSink(), tools=tools, max_rounds=rounds)
        assert provider.requests[0].tools == ()


def test_a_call_cut_off_by_the_length_limit_is_not_run() -> None:
    cut = [TextDelta("Saving"), ToolCallDelta(1, "t", "lookup", '{"order_'), Finish("max_tokens")]
    provider = TurnByTurn([cut])
    sink = RecordingSink()
    result = generate(provider, REQUEST, sink, tools=TOOLS)
    assert len(provider.requests) == 1 and EXTERNAL_SOURCES not in sink.states
    assert "cut short" in result.note


def test_status_notes_reach_the_indicator() -> None:
    provider = TurnByTurn(
        [
            [
                Status("Waiting for the local model: 1 answer ahead of yours"),
                TextDelta("Hi"),
                Finish("stop"),
            ]
        ]
    )
    sink = RecordingSink()
    assert generate(provider, REQUEST, sink).text == "Hi"
    assert sink.states == ["AI_STATE_THINKING"]
    assert sink.messages == ["Waiting for the local model: 1 answer ahead of yours"]


# --- steps shown beside the text ---------------------------------------------------------


def test_each_tool_call_is_shown_running_then_with_its_result() -> None:
    provider = TurnByTurn([[*CALL[:2], ToolCallDelta(1, "t2", "failing", "{}"), *CALL[2:]],
                           [TextDelta("Done.")]])
    sink = RecordingSink()
    generate(provider, REQUEST, sink, tools=TOOLS,
             context=ToolContext("messaging", "general", "alice", "Alice"))
    assert [(s.call_id, s.name, s.result) for s in sink.steps] == [
        ("call_0_0", "lookup", None), ("t2", "failing", None),
        ("call_0_0", "lookup", "A-1 shipped to Alice"),
        ("t2", "failing", "Error: RuntimeError: backend down"),
    ]
    assert all(s.seconds is not None and s.seconds >= 0 for s in sink.steps[2:])


def test_reasoning_is_shown_only_when_asked_and_is_done_at_the_first_text() -> None:
    turn = [ThinkingDelta("Let me "), ThinkingDelta("think."), TextDelta("Hi"), TextDelta("!")]
    quiet = RecordingSink()
    generate(TurnByTurn([turn]), REQUEST, quiet)
    assert quiet.steps == []
    sink = RecordingSink()
    generate(TurnByTurn([turn]), REQUEST, sink, show_reasoning=True)
    assert [(s.step_id, s.text, s.done) for s in sink.steps] == [
        ("reasoning-0", "Let me ", False), ("reasoning-0", "Let me think.", False),
        ("reasoning-0", "Let me think.", True),
    ]
    assert sink.text == "Hi!"  # never in the answer


def test_each_tool_round_has_its_own_reasoning_step() -> None:
    provider = TurnByTurn([[ThinkingDelta("Look it up."), *CALL],
                           [ThinkingDelta("Now answer."), TextDelta("Shipped.")]])
    sink = RecordingSink()
    generate(provider, REQUEST, sink, tools=TOOLS, show_reasoning=True)
    done = [(s.step_id, s.text) for s in sink.steps if getattr(s, "done", False)]
    assert done == [("reasoning-0", "Look it up."), ("reasoning-1", "Now answer.")]
