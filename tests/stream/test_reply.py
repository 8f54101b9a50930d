"""The reply writer against Stream's REST API (mocked with `responses`) and a fake clock."""

from __future__ import annotations

import json

import pytest
import responses
from stream_chat import StreamChat

from gptbot.stream.api import StreamApi
from gptbot.stream.reply import ReplyTarget, ReplyWriter, split_point
from tests.support.common import API_KEY, API_SECRET, STREAM_URL
from tests.support.fakes import FakeClock

CHANNEL = f"{STREAM_URL}/channels/messaging/general"


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, f"{CHANNEL}/message", json={"message": {}}, status=201)
        mock.add(responses.POST, f"{CHANNEL}/event", json={"event": {}}, status=201)
        mock.add(responses.PUT, _messages_re("PUT"), json={"message": {}})
        mock.add(responses.PATCH, _messages_re("PATCH"), json={"message": {}})
        yield mock


def _messages_re(_method: str):
    import re

    suffix = "/ephemeral" if _method == "PATCH" else ""
    return re.compile(rf"{STREAM_URL}/messages/[^/?]+{suffix}(\?.*)?$")


def make_writer(clock=None, max_length=5000, parent_id=None) -> ReplyWriter:
    stream = StreamApi(StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL), max_wait=0)
    target = ReplyTarget("messaging", "general", "gpt-m1", parent_id, "gpt-bot")
    return ReplyWriter(stream, target, 0.5, max_length, clock or FakeClock())


def bodies(mock, method: str, part: str) -> list[dict]:
    return [
        json.loads(c.request.body)
        for c in mock.calls
        if c.request.method == method and part in c.request.url
    ]


def events(mock) -> list[str]:
    return [
        e["event"].get("ai_state") or e["event"]["type"] for e in bodies(mock, "POST", "/event")
    ]


def test_full_lifecycle_throttles_by_time(api):
    clock = FakeClock()
    writer = make_writer(clock)
    assert writer.begin()
    for i in range(20):  # 20 tokens over 1.9 s, interval 0.5 s
        writer.add(f"t{i} ")
        clock.now += 0.1
    writer.finish()
    placeholder = bodies(api, "POST", "/message")[0]["message"]
    assert placeholder == {
        "id": "gpt-m1",
        "text": "",
        "ai_generated": True,
        "generating": True,
        "user": {"id": "gpt-bot"},
    }
    broadcasts = bodies(api, "PATCH", "/ephemeral")
    # The first token at once, then at 0.5, 1.0, 1.5 s — not once per token.
    assert [b["set"]["text"].split()[-1] for b in broadcasts] == ["t0", "t5", "t10", "t15"]
    assert all(b["set"]["generating"] for b in broadcasts)
    persisted = bodies(api, "PUT", "/messages/")
    assert persisted == [
        {
            "set": {"text": " ".join(f"t{i}" for i in range(20)), "generating": False},
            "user": {"id": "gpt-bot"},
        }
    ]
    assert events(api) == ["AI_STATE_THINKING", "AI_STATE_GENERATING", "ai_indicator.clear"]


def test_the_first_text_shows_at_once_however_long_the_model_thought(api):
    clock = FakeClock()
    writer = make_writer(clock)
    writer.begin()
    clock.now += 0.45  # the model's first token comes just before one interval has passed
    writer.add("Hello")
    assert [b["set"]["text"] for b in bodies(api, "PATCH", "/ephemeral")] == ["Hello"]
    clock.now += 0.3  # within the interval after it: held back, coalesced into the next
    writer.add(" there")
    assert len(bodies(api, "PATCH", "/ephemeral")) == 1
    clock.now += 0.2
    writer.add(",")
    assert [b["set"]["text"] for b in bodies(api, "PATCH", "/ephemeral")] == [
        "Hello", "Hello there,"]


def test_broadcast_refused_falls_back_to_partial_updates(api):
    api.replace(
        responses.PATCH,
        _messages_re("PATCH"),
        json={"code": 16, "message": "not found"},
        status=404,
    )
    clock = FakeClock()
    writer = make_writer(clock)
    writer.begin()
    for _ in range(3):  # flushes at once, at +0.6 s and at +1.2 s
        writer.add("word ")
        clock.now += 0.6
    writer.finish()
    assert len(bodies(api, "PATCH", "/ephemeral")) == 1  # refused once, then never tried again
    persisted = bodies(api, "PUT", "/messages/")
    assert [p["set"]["generating"] for p in persisted] == [True, True, True, False]


def test_transient_errors_are_retried(api):
    api.replace(
        responses.PUT, _messages_re("PUT"), json={"code": 9, "message": "slow down"}, status=429
    )
    api.add(responses.PUT, _messages_re("PUT"), json={"message": {}})
    writer = make_writer()
    writer.begin()
    writer.add("hello")
    writer.finish()
    assert [c.response.status_code for c in api.calls if c.request.method == "PUT"] == [429, 200]


def test_long_answers_continue_in_follow_up_messages(api):
    writer = make_writer(max_length=100)
    writer.begin()
    sentence = "This sentence is exactly forty-six chars long. "
    text = sentence * 6
    for word in text.split(" "):
        writer.add(word + " ")
    writer.finish()
    ids = [b["message"]["id"] for b in bodies(api, "POST", "/message")]
    assert ids == ["gpt-m1", "gpt-m1-2", "gpt-m1-3"]
    finals = [
        (c.request.url.split("/messages/")[1].split("?")[0], json.loads(c.request.body))
        for c in api.calls
        if c.request.method == "PUT"
    ]
    assert all(len(body["set"]["text"]) <= 100 for _, body in finals)
    assert all(not body["set"]["generating"] for _, body in finals)
    assert " ".join(body["set"]["text"] for _, body in finals) == text.strip()


def test_split_point_prefers_natural_breaks():
    assert split_point("para one.\n\npara two is longer", 20) == len("para one.\n\n")
    assert split_point("a" * 30, 20) == 20
    assert split_point("words and more words here", 20) == len("words and more ")


def reply_exists(api, text: str, generating: bool) -> None:
    """An earlier attempt already posted gpt-m1: Stream refuses the id (code 4)."""
    api.replace(
        responses.POST,
        f"{CHANNEL}/message",
        json={"code": 4, "message": "a message with ID gpt-m1 already exists"},
        status=400,
    )
    api.add(
        responses.GET,
        f"{STREAM_URL}/messages/gpt-m1",
        json={"message": {"id": "gpt-m1", "text": text, "generating": generating}},
    )


def test_retried_job_finds_its_finished_reply(api):
    reply_exists(api, "done", generating=False)
    assert not make_writer().begin()
    assert events(api) == []


def test_retried_job_takes_over_an_unfinished_reply(api):
    reply_exists(api, "half", generating=True)
    writer = make_writer()
    assert writer.begin()
    writer.add("complete answer")
    writer.finish()
    assert bodies(api, "PUT", "/messages/")[-1]["set"]["text"] == "complete answer"


def test_failure_keeps_partial_text_and_never_stays_generating(api):
    writer = make_writer()
    writer.begin()
    writer.add("The first half")
    writer.fail("Sorry, the language model stopped responding.")
    final = bodies(api, "PUT", "/messages/")[-1]["set"]
    assert final == {
        "text": "The first half\n\n_Sorry, the language model stopped responding._",
        "generating": False,
    }
    assert events(api)[-1] == "AI_STATE_ERROR"


def test_failure_before_any_text_shows_only_the_note(api):
    writer = make_writer()
    writer.begin()
    writer.fail("Sorry.")
    assert bodies(api, "PUT", "/messages/")[-1]["set"]["text"] == "Sorry."


def test_thread_commands_are_answered_in_the_thread(api):
    writer = make_writer(parent_id="question-parent")
    writer.begin()
    assert bodies(api, "POST", "/message")[0]["message"]["parent_id"] == "question-parent"


def test_indicator_failures_do_not_stop_the_answer(api):
    api.replace(responses.POST, f"{CHANNEL}/event", json={"code": 17, "message": "no"}, status=403)
    writer = make_writer()
    writer.begin()
    writer.add("still answered")
    writer.finish()
    assert bodies(api, "PUT", "/messages/")[-1]["set"]["text"] == "still answered"


def test_state_notes_travel_as_ai_message(api):
    writer = make_writer()
    writer.begin()
    writer.set_state("AI_STATE_THINKING", "Waiting for the local model: 2 answers ahead")
    event = bodies(api, "POST", "/event")[-1]["event"]
    assert event["ai_message"] == "Waiting for the local model: 2 answers ahead"
    assert "ai_message" not in bodies(api, "POST", "/event")[0]["event"]

