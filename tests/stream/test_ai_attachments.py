"""The AI step attachments (`ai_tool_call`, `ai_reasoning`) match Stream's schema.

The schema is the one Stream's own decoder reads: GetStream/stream-chat-android,
stream-chat-android-ai-compose/src/main/kotlin/io/getstream/chat/android/ai/compose/parts/
AIToolCallPart.kt and AIMessagePart.kt @ c396ceb61c69b742be1d27a82ce3b369c24073d3,
AIReasoningPart.kt and Fields.kt @ 634c52c5ace2ef0cf783f226aa60fea329e5c3b3, and the payloads
of its test AIMessagePartTest.kt (same commit). `stream_reads` below restates that decoder's
lenient rules, so a field we wrote the wrong way would read as missing there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gptbot.stream import ai_attachments as ai

# Every field Stream's decoder reads, with the JSON type it accepts (Fields.string/int/json).
Kinds = type | tuple[type, ...]
COMMON: dict[str, Kinds] = {"type": str, "v": int, "id": str}
TOOL_CALL_FIELDS: dict[str, Kinds] = {
    **COMMON,
    **dict.fromkeys(["name", "display_title", "status", "executor", "summary"], str),
    **dict.fromkeys(["target_user_id", "target_client_id"], str),
    "arguments": (dict, list),  # Fields.json: only an object or an array
    "duration_ms": int,
    "approval": dict,
}
REASONING_FIELDS: dict[str, Kinds] = {
    **COMMON,
    **dict.fromkeys(["status", "summary", "preview"], str),
    "duration_ms": int,
}
APP_JS = Path(ai.__file__).resolve().parents[1] / "emulator" / "static" / "app.js"


def stream_reads(step: dict[str, Any]) -> dict[str, Any]:
    """What Stream's decoder makes of `step`: unknown keys are ignored, an empty string or a
    value of another type reads as missing (a bool is not a number)."""
    fields = TOOL_CALL_FIELDS if step["type"] == ai.TOOL_CALL else REASONING_FIELDS
    read = {}
    for key, kind in fields.items():
        value = step.get(key)
        if value == "" or isinstance(value, bool) or not isinstance(value, kind):
            continue
        read[key] = value
    return read


def assert_matches_schema(step: dict[str, Any]) -> None:
    json.dumps(step, ensure_ascii=False)  # plain JSON, nothing else
    allowed = TOOL_CALL_FIELDS if step["type"] == ai.TOOL_CALL else REASONING_FIELDS
    assert set(step) <= set(allowed), f"fields Stream does not read: {set(step) - set(allowed)}"
    assert stream_reads(step) == step, "every field we write must read back as written"
    assert step["type"].startswith(ai.STEP_PREFIX) and step["v"] == 1


# -- ai_tool_call --------------------------------------------------------------------------


def test_a_started_tool_call_is_a_running_server_step() -> None:
    step = ai.tool_call_started("call_abc", "get_weather", title="Checking the weather")

    assert_matches_schema(step)
    assert step == {
        "type": "ai_tool_call",
        "v": 1,
        "id": "call_abc",
        "name": "get_weather",
        "display_title": "Checking the weather",
        "status": "running",
        "executor": "server",
    }
    assert "arguments" not in step, "every member can read arguments: only when asked for"


def test_a_finished_tool_call_keeps_its_fields_and_adds_outcome_and_duration() -> None:
    started = ai.tool_call_started("call_abc", "get_weather", title="Checking the weather")
    done = ai.tool_call_finished(started, "Sunny, 21 °C\nwind 3 m/s", duration_ms=412.6)

    assert_matches_schema(done)
    assert done["status"] == ai.COMPLETED and done["status"] in ai.FINISHED
    assert done["summary"].startswith("Sunny, 21 °C… (+")
    assert done["duration_ms"] == 413
    assert {k: done[k] for k in started if k != "status"} == {
        k: v for k, v in started.items() if k != "status"
    }
    assert started["status"] == ai.RUNNING, "the started step is not changed in place"


def test_a_toolbox_error_result_is_a_failed_step() -> None:
    started = ai.tool_call_started("call_1", "lookup")
    failed = ai.tool_call_finished(started, "Error: the tool did not finish within 10 s.")
    overridden = ai.tool_call_finished(started, "no match", failed=True)

    assert failed["status"] == overridden["status"] == ai.FAILED
    assert failed["summary"] == "Error: the tool did not finish within 10 s."
    assert "duration_ms" not in failed
    assert_matches_schema(failed)


def test_arguments_when_asked_for_are_an_object_with_secrets_redacted() -> None:
    raw = json.dumps({"city": "Zürich", "api_key": "abc", "Authorization": "x", "max_tokens": 5})
    step = ai.tool_call_started("call_1", "get_weather", arguments=raw)

    assert_matches_schema(step)
    assert step["arguments"] == {
        "city": "Zürich",
        "api_key": ai.REDACTED,
        "Authorization": ai.REDACTED,
        "max_tokens": 5,
    }
    not_json = ai.tool_call_started("call_2", "echo", arguments="{not json")
    assert not_json["arguments"] == {"arguments": "{not json"}


def test_long_arguments_are_cut_and_say_how_much() -> None:
    step = ai.tool_call_started("c", "search", arguments={"query": "x" * 500})
    too_many = ai.tool_call_started("c", "bulk", arguments=[f"item {i:04}" for i in range(400)])

    query = step["arguments"]["query"]
    kept = query.split("…")[0]
    assert len(query) <= ai.MAX_ARGUMENT_TEXT and query.endswith(f"… (+{500 - len(kept)} chars)")
    assert len(json.dumps(too_many["arguments"])) <= ai.MAX_ARGUMENTS
    assert "characters of arguments left out" in too_many["arguments"]["truncated"]


# -- ai_reasoning --------------------------------------------------------------------------


def test_reasoning_streams_with_its_latest_words_and_ends_with_its_opening() -> None:
    text = " ".join(f"w{i}" for i in range(400))
    live = ai.reasoning("reasoning-0", text)
    done = ai.reasoning("reasoning-0", text, done=True, duration_ms=3200)

    for step in (live, done):
        assert_matches_schema(step)
        assert len(step["preview"]) <= ai.MAX_PREVIEW
    assert live["status"] == ai.STREAMING and live["preview"].endswith("w399")
    assert live["preview"].startswith("…")
    assert done["status"] == ai.COMPLETED and done["preview"].startswith("w0 w1 ")
    assert done["duration_ms"] == 3200 and "chars)" in done["preview"]


def test_reasoning_without_text_only_says_that_the_model_thought() -> None:
    step = ai.reasoning("reasoning-1", done=True, duration_ms=1500)

    assert step == {
        "type": "ai_reasoning",
        "v": 1,
        "id": "reasoning-1",
        "status": "completed",
        "duration_ms": 1500,
    }


def test_a_step_needs_an_id() -> None:
    with pytest.raises(ValueError):
        ai.reasoning("")


# -- the message's list of steps -----------------------------------------------------------


def test_merge_updates_a_step_in_place_and_appends_new_ones() -> None:
    image = {"type": "image", "image_url": "https://example.com/a.png"}
    first = ai.reasoning("reasoning-0", "Hmm")
    call = ai.tool_call_started("call_1", "lookup")
    attachments = ai.merge_step(ai.merge_step([image], first), call)
    before = json.dumps(attachments)

    updated = ai.merge_step(attachments, ai.tool_call_finished(call, "found", duration_ms=5))
    again = ai.merge_step(updated, ai.reasoning("reasoning-0", "Hmm, yes", done=True))

    assert [a.get("id") for a in again] == [None, "reasoning-0", "call_1"]
    assert again[0] == image
    assert again[1]["status"] == ai.COMPLETED and again[2]["status"] == ai.COMPLETED
    assert json.dumps(attachments) == before, "nothing is changed in place"


def test_merge_tells_steps_apart_by_type_and_id() -> None:
    reasoning = ai.reasoning("x", "thinking")
    call = ai.tool_call_started("x", "lookup")

    assert len(ai.merge_step([reasoning], call)) == 2


def test_settle_leaves_no_step_in_progress() -> None:
    done = ai.tool_call_finished(ai.tool_call_started("a", "one"), "ok")
    attachments = [
        done,
        ai.tool_call_started("b", "two"),
        ai.reasoning("r", "still thinking"),
        {"type": "file", "asset_url": "https://example.com/f.pdf"},
    ]

    settled = ai.settle(attachments)

    assert [a.get("status") for a in settled] == ["completed", "cancelled", "completed", None]
    assert settled[0] == done and attachments[1]["status"] == ai.RUNNING
    assert ai.settle(attachments, ai.FAILED)[1]["status"] == ai.FAILED


# -- what goes into a step -----------------------------------------------------------------


def test_a_huge_result_gives_a_short_summary_that_says_how_much_was_cut() -> None:
    result = "first line of the result " * 100 + "\n" + "more\n" * 10_000
    summary = ai.summarize_result(result)

    assert len(summary) <= ai.MAX_SUMMARY
    assert summary.startswith("first line of the result")
    left_out = len(result.strip()) - len(summary.split("…")[0])
    assert summary.endswith(f"… (+{left_out:,} chars)")


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "Bearer abcdefghijklmnop1234",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXNpZ24",
        "AKIAABCDEFGHIJKLMNOP",
        "https://api.example.com/v1?q=1&api_key=SUPERSECRET",
        'password="hunter22"',
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_secrets_never_reach_a_step(secret: str) -> None:
    started = ai.tool_call_started("c", "fetch", arguments={"url": secret})
    done = ai.tool_call_finished(started, f"Error: request failed for {secret}")
    thought = ai.reasoning("r", f"I will use {secret} now", done=True)

    shown = json.dumps([done, thought], ensure_ascii=False)
    for piece in ("abcdefghijklmnop", "SUPERSECRET", "hunter22", "MIIEpA", "eyJzdWIi", "CDEFGHIJ"):
        assert piece not in shown
    assert ai.REDACTED in done["summary"] and ai.REDACTED in thought["preview"]


def test_non_ascii_text_is_kept_and_cut_by_characters() -> None:
    title = "Wetter in Zürich prüfen – 東京の天気 🌧️ " * 5  # noqa: RUF001 (non-ASCII on purpose)
    step = ai.tool_call_started("c", "weather", title=title)
    done = ai.tool_call_finished(step, "雨 🌧️ 12 °C, Ветер 3 м/с " * 20)  # noqa: RUF001 (non-ASCII on purpose)

    assert len(step["display_title"]) <= ai.MAX_TITLE
    assert step["display_title"].startswith("Wetter in Zürich prüfen – 東京の天気 🌧️")  # noqa: RUF001 (non-ASCII on purpose)
    assert done["summary"].startswith("雨 🌧️ 12 °C, Ветер 3 м/с")  # noqa: RUF001 (non-ASCII on purpose)
    assert len(done["summary"]) <= ai.MAX_SUMMARY
    assert json.loads(json.dumps(done, ensure_ascii=False)) == done
    assert ai.reasoning("r", "Ça va — 思考中…")["preview"] == "Ça va — 思考中…"


def test_control_characters_and_line_breaks_stay_out_of_one_line_fields() -> None:
    step = ai.tool_call_started("c", "x", title="Line one\nline\ttwo\x00\x1b[31m")

    assert step["display_title"] == "Line one line two[31m"


def test_the_playground_renders_the_kinds_and_statuses_written_here() -> None:
    """The emulator's page (served as /playground/static/app.js) knows what we write."""
    page = APP_JS.read_text(encoding="utf-8")

    for name in (ai.TOOL_CALL, ai.REASONING, *ai.TOOL_STATUSES, ai.STREAMING, "duration_ms"):
        assert f'"{name}"' in page, f"app.js does not handle {name!r}"
