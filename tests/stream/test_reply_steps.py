"""The reply writer shows an answer's steps as Stream's AI attachments on the reply: a tool
call at once when it starts and ends, reasoning at the text's pace, and the final write keeps
them all, none left running (schema: tests/stream/test_ai_attachments.py, which follows
GetStream/stream-chat-android ai-compose @ c396ceb6 / 634c52c5)."""

from __future__ import annotations

from gptbot.core.steps import ReasoningStep, ToolStep
from gptbot.stream import ai_attachments as ai
from tests.stream.test_ai_attachments import assert_matches_schema
from tests.stream.test_reply import api, bodies, make_writer  # noqa: F401  (api: a fixture)
from tests.support.fakes import FakeClock


def shown(mock) -> list[list[dict]]:
    """The attachments of every intermediate (broadcast) update, in order."""
    return [b["set"].get("attachments", []) for b in bodies(mock, "PATCH", "/ephemeral")]


def final(mock) -> dict:
    (last,) = [b["set"] for b in bodies(mock, "PUT", "/messages/") if not b["set"]["generating"]]
    return last


def test_a_tool_call_is_shown_running_then_completed_and_the_final_reply_keeps_it(api):  # noqa: F811
    clock = FakeClock()
    writer = make_writer(clock)
    writer.begin()
    writer.add("Checking. ")
    writer.show_step(ToolStep("call_1", "order_status"))
    writer.show_step(ToolStep("call_1", "order_status", "A-1 shipped on Monday\nmore", 0.25))
    writer.add("It shipped.")
    writer.finish()
    running, done = shown(api)[1:3]  # the first update is the text alone
    assert [(s["type"], s["id"], s["status"]) for s in running] == [
        (ai.TOOL_CALL, "call_1", ai.RUNNING)]
    assert running[0]["display_title"] == "Using order status"
    assert done[0]["status"] == ai.COMPLETED
    assert done[0]["summary"].startswith("A-1 shipped on Monday")  # its first line
    assert done[0]["duration_ms"] == 250
    end = final(api)
    assert end["text"] == "Checking. It shipped." and end["attachments"] == done
    for step in end["attachments"]:
        assert_matches_schema(step)


def test_a_call_still_running_when_the_answer_fails_ends_cancelled(api):  # noqa: F811
    writer = make_writer()
    writer.begin()
    writer.show_step(ToolStep("call_1", "slow_search"))
    writer.fail("The model stopped answering.")
    (step,) = final(api)["attachments"]
    assert step["status"] == ai.CANCELLED


def test_reasoning_goes_out_at_the_pace_of_the_text_and_ends_completed(api):  # noqa: F811
    clock = FakeClock()
    writer = make_writer(clock)
    writer.begin()
    for words in ("Let", "Let me", "Let me see"):
        writer.show_step(ReasoningStep("reasoning-0", words))
        clock.now += 0.2
    writer.show_step(ReasoningStep("reasoning-0", "Let me see", True, 0.6))
    writer.add("Yes.")
    writer.finish()
    assert len(shown(api)) < 4  # throttled like text: not one update per piece
    (step,) = final(api)["attachments"]
    assert (step["type"], step["status"], step["duration_ms"]) == (ai.REASONING, ai.COMPLETED,
                                                                   600)
    assert "Let me see" in step["preview"] and final(api)["text"] == "Yes."
    assert_matches_schema(step)


def test_an_answer_without_steps_writes_no_attachments(api):  # noqa: F811
    writer = make_writer()
    writer.begin()
    writer.add("Plain.")
    writer.finish()
    assert "attachments" not in final(api)
    assert all("attachments" not in b["set"] for b in bodies(api, "PATCH", "/ephemeral"))
