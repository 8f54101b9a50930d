"""The hot-write path sends exactly what the stream-chat SDK sends, and fails as it fails."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.cli.dev import free_port
from gptbot.stream.transport import HotWrites
from tests.support.common import API_KEY, API_SECRET, STREAM_URL

BODY = {"set": {"text": "Go to Settings → Billing.", "generating": True},
        "user": {"id": "gpt-bot"}}
SAME_HEADERS = ("Content-Type", "X-Stream-Client", "Authorization", "stream-auth-type")


@pytest.fixture
def http():
    """Only this file's answers (the shared fixture answers every Stream call with 200)."""
    with responses.RequestsMock() as mock:
        yield mock


def sdk_and_hot(seen: list | None = None) -> tuple[StreamChat, HotWrites]:
    client = StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL)
    seen = [] if seen is None else seen
    return client, HotWrites(client, lambda status, headers: seen.append(
        (status, headers.get("x-ratelimit-reset"))))


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_hot_write_is_the_sdks_request_byte_for_byte(http, method):
    url = f"{STREAM_URL}/messages/m1/ephemeral"
    http.add(method.upper(), url, json={"message": {"id": "m1"}})
    client, hot = sdk_and_hot()
    assert getattr(client, method)("messages/m1/ephemeral", data=BODY)["message"] == {"id": "m1"}
    assert getattr(hot, method)("messages/m1/ephemeral", BODY) == {"message": {"id": "m1"}}
    by_sdk, by_hot = (call.request for call in http.calls)
    assert by_hot.method == by_sdk.method == method.upper()
    assert by_hot.url == by_sdk.url and "api_key=" + API_KEY in by_hot.url
    assert json.loads(by_hot.body) == json.loads(by_sdk.body) == BODY
    for name in SAME_HEADERS:
        assert by_hot.headers[name] == by_sdk.headers[name], name


def test_an_error_status_raises_the_sdks_exception_with_stream_code(http):
    error = {"code": 4, "message": "UpdateMessage failed", "StatusCode": 400}
    http.add(responses.PUT, f"{STREAM_URL}/messages/m1", json=error, status=400)
    with pytest.raises(StreamAPIException) as raised:
        sdk_and_hot()[1].put("messages/m1", BODY)
    assert (raised.value.status_code, raised.value.error_code) == (400, 4)


def test_a_429s_reset_header_reaches_the_budget(http):
    seen: list = []
    http.add(responses.PATCH, f"{STREAM_URL}/messages/m1/ephemeral", json={"code": 9},
             status=429, headers={"X-RateLimit-Reset": "1900000060"})
    with pytest.raises(StreamAPIException):
        sdk_and_hot(seen)[1].patch("messages/m1/ephemeral", BODY)
    assert seen == [(429, "1900000060")]


def test_a_2xx_that_is_not_json_fails_as_in_the_sdk(http):
    http.add(responses.POST, f"{STREAM_URL}/channels/messaging/general/event", body="<html>")
    with pytest.raises(StreamAPIException):
        sdk_and_hot()[1].post("channels/messaging/general/event", {"event": {}})


def test_an_empty_2xx_is_an_empty_answer(http):
    http.add(responses.POST, f"{STREAM_URL}/channels/messaging/general/event", body="")
    assert sdk_and_hot()[1].post("channels/messaging/general/event", {"event": {}}) == {}


def test_nothing_listening_is_requests_connection_error():
    client = StreamChat(API_KEY, API_SECRET, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(requests.ConnectionError):
        HotWrites(client, lambda *_: None).post("channels/messaging/general/event", {})
