"""The operators' summary: the request the model gets, and the lines kept from its answer."""

from __future__ import annotations

from gptbot.conversation.handoff import SUMMARY_PROMPT, summary_lines, summary_request
from gptbot.core.types import Conversation, Turn


def test_bullets_and_numbering_go_and_at_most_three_lines_stay() -> None:
    text = "• First point\r\n\n  2) Second\u2028still the second\n- Third\n- Fourth"
    # U+2028 is whitespace inside a line, never a line break of its own.
    assert summary_lines(text) == ["First point", "Second still the second", "Third"]


def test_a_long_line_is_shortened() -> None:
    [line] = summary_lines("x" * 500)
    assert len(line) == 200 and line.endswith("…")


def test_an_empty_answer_gives_no_lines() -> None:
    assert summary_lines(" \n - \n") == []


def test_the_request_holds_the_conversation_and_the_note() -> None:
    turns = [Turn("r1", 1.0, "alice", "Alice", "Where is my parcel?", "It left on Monday.")]
    request = summary_request("gpt-4o-mini", Conversation("They ordered shoes.", turns), "late")
    assert request is not None and request.messages[0].content == SUMMARY_PROMPT
    assert request.messages[1].content == (
        "The conversation so far, oldest first:\nEarlier summary: They ordered shoes.\n"
        "Alice: Where is my parcel?\nAssistant: It left on Monday.\n"
        "The user's note when asking for a person: late")
    assert request.max_tokens == 200


def test_nothing_to_summarize_gives_no_request() -> None:
    assert summary_request("m", Conversation(), "help") is None
