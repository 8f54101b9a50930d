"""Code 4 on a send is a duplicate id only when it is one.

Stream answers 400 with code 4 both when our deterministic id already exists (an earlier
attempt sent the message) and for any other bad input, such as a thread parent deleted
while the answer was generated. Only the first may be taken as "already sent"; the others
must fail the send, for the placeholder and for every later part of a long answer alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import responses
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.stream.api import MessageExists, StreamApi
from gptbot.stream.reply import ReplyTarget, ReplyWriter
from tests.support.common import API_KEY, API_SECRET, STREAM_URL
from tests.support.fakes import FakeClock

CHANNEL = f"{STREAM_URL}/channels/messaging/general"
CID = ("messaging", "general")
BOT = "gpt-bot"
MESSAGE_RE = re.compile(rf"{STREAM_URL}/messages/[^/?]+(\?.*)?$")
PARENT_GONE = 'SendMessage failed with error: "parent message q-1 not found"'
AMBIGUOUS = 'SendMessage failed with error: "message.id is invalid"'


def refusal(message: str) -> dict:
    return {"code": 4, "message": message, "StatusCode": 400}


def readback(mock: responses.RequestsMock, message_id: str, user_id: str | None) -> None:
    """GET /messages/<id>: the message by `user_id`, or 404 (code 16) when None."""
    url = f"{STREAM_URL}/messages/{message_id}"
    if user_id is None:
        mock.add(responses.GET, url, json={"code": 16, "message": "not found"}, status=404)
    else:
        message = {"id": message_id, "text": "", "user": {"id": user_id}}
        mock.add(responses.GET, url, json={"message": message})


def path(call: responses.Call) -> str:
    return urlsplit(call.request.url).path


def reads(mock: responses.RequestsMock) -> list[str]:
    return [path(c) for c in mock.calls if c.request.method == "GET"]


@pytest.fixture
def stream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, f"{CHANNEL}/event", json={"event": {}}, status=201)
        mock.add(responses.PUT, MESSAGE_RE, json={"message": {}})
        mock.add(responses.PATCH, re.compile(rf"{STREAM_URL}/messages/.+/ephemeral"), json={})
        yield mock


def make_api() -> StreamApi:
    client = StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL)
    return StreamApi(client, max_wait=0, sleep=lambda _s: None)


def send(api: StreamApi, message_id: str = "gpt-m1") -> dict:
    return api.send_message(CID, {"id": message_id, "text": ""}, BOT)


def refuse_sends(mock: responses.RequestsMock, *messages: str | None) -> None:
    """Answers successive sends: a code-4 refusal with each text, None = accepted."""
    for message in messages:
        if message is None:
            mock.add(responses.POST, f"{CHANNEL}/message", json={"message": {}}, status=201)
        else:
            mock.add(responses.POST, f"{CHANNEL}/message", json=refusal(message), status=400)


# -- StreamApi.send_message ---------------------------------------------------------------


def test_already_exists_is_a_duplicate_without_a_read(stream):
    refuse_sends(stream, 'SendMessage failed with error: "a message with ID gpt-m1 already exists"')
    with pytest.raises(MessageExists, match="gpt-m1"):
        send(make_api())
    assert reads(stream) == []  # Stream said so: nothing to confirm


def test_a_deleted_thread_parent_is_an_error_not_a_duplicate(stream):
    refuse_sends(stream, PARENT_GONE)
    readback(stream, "gpt-m1", None)
    with pytest.raises(StreamAPIException) as raised:
        send(make_api())
    assert not isinstance(raised.value, MessageExists)
    assert (raised.value.status_code, raised.value.error_code) == (400, 4)
    assert "parent message q-1 not found" in str(raised.value)  # the original error, kept


def test_an_ambiguous_code_4_is_a_duplicate_when_our_message_reads_back(stream):
    refuse_sends(stream, AMBIGUOUS)
    readback(stream, "gpt-m1", BOT)
    with pytest.raises(MessageExists):
        send(make_api())
    assert reads(stream) == ["/messages/gpt-m1"]


def test_an_ambiguous_code_4_with_someone_elses_message_is_an_error(stream):
    refuse_sends(stream, AMBIGUOUS)
    readback(stream, "gpt-m1", "mallory")
    with pytest.raises(StreamAPIException, match=r"message\.id is invalid") as raised:
        send(make_api())
    assert not isinstance(raised.value, MessageExists)


def test_an_ambiguous_code_4_without_a_message_is_an_error(stream):
    refuse_sends(stream, AMBIGUOUS)
    readback(stream, "gpt-m1", None)
    with pytest.raises(StreamAPIException, match=r"message\.id is invalid"):
        send(make_api())


def test_other_statuses_are_never_read_back(stream):
    stream.add(responses.POST, f"{CHANNEL}/message", json={"code": 17, "message": "no"},
               status=403)
    with pytest.raises(StreamAPIException) as raised:
        send(make_api())
    assert raised.value.status_code == 403 and reads(stream) == []


# -- through the reply writer: placeholder and later parts --------------------------------


def make_writer(max_length: int = 5000) -> ReplyWriter:
    target = ReplyTarget("messaging", "general", "gpt-m1", "q-1", BOT)
    return ReplyWriter(make_api(), target, 0.5, max_length, FakeClock())


def long_answer(writer: ReplyWriter) -> None:
    for word in ("This sentence is exactly forty-six chars long. " * 3).split(" "):
        writer.add(word + " ")


def sent_ids(mock: responses.RequestsMock) -> list[str]:
    return [json.loads(c.request.body)["message"]["id"]
            for c in mock.calls if c.request.method == "POST" and path(c).endswith("/message")]


def test_a_placeholder_under_a_deleted_parent_fails_the_reply(stream):
    refuse_sends(stream, PARENT_GONE)
    readback(stream, "gpt-m1", None)
    with pytest.raises(StreamAPIException, match="parent message q-1 not found"):
        make_writer().begin()


def test_a_placeholder_an_earlier_attempt_sent_is_taken_over(stream):
    refuse_sends(stream, AMBIGUOUS)
    readback(stream, "gpt-m1", BOT)  # read twice: to confirm, then by begin() for its state
    writer = make_writer()
    assert writer.begin()
    writer.add("complete answer")
    writer.finish()
    final = [json.loads(c.request.body) for c in stream.calls if c.request.method == "PUT"][-1]
    assert final["set"] == {"text": "complete answer", "generating": False}


def test_a_later_part_under_a_deleted_parent_fails_the_reply(stream):
    refuse_sends(stream, None, PARENT_GONE)
    readback(stream, "gpt-m1-2", None)
    writer = make_writer(max_length=100)
    assert writer.begin()
    with pytest.raises(StreamAPIException, match="parent message q-1 not found"):
        long_answer(writer)
    assert sent_ids(stream) == ["gpt-m1", "gpt-m1-2"]


def test_a_later_part_an_earlier_attempt_sent_is_continued(stream):
    refuse_sends(stream, None, 'SendMessage failed with error: "a message with ID gpt-m1-2 '
                               'already exists"')
    writer = make_writer(max_length=100)
    assert writer.begin()
    long_answer(writer)
    writer.finish()
    assert writer.message_id == "gpt-m1-2" and sent_ids(stream) == ["gpt-m1", "gpt-m1-2"]
