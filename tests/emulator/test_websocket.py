"""The emulator's client WebSocket (/connect) and channel watching, as Stream does them.

Clients here are plain `websockets` connections and REST calls with user tokens, as
Stream's JS SDK makes them; no gptbot code on the client side.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import requests
from flask import Flask, request
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from gptbot.emulator import EmulatorState, RunningServer, create_emulator_app, start_server
from tests.support.common import API_KEY, API_SECRET
from tests.support.loop import emulator_state, wait_for

CHANNEL = "/channels/messaging/general"
STOP = {"type": "ai_indicator.stop"}


@pytest.fixture
def state() -> EmulatorState:
    state = emulator_state()
    state.ensure_channel("messaging", "general", "sam")
    return state


@pytest.fixture
def server(state: EmulatorState) -> Iterator[RunningServer]:
    with start_server(create_emulator_app(state)) as running:
        yield running


def token(user_id: str, secret: str = API_SECRET) -> str:
    return jwt.encode({"user_id": user_id}, secret, algorithm="HS256")


def ws_url(server: RunningServer, user_id: str, **overrides: str) -> str:
    params = {"json": json.dumps({"user_id": user_id, "user_details": {"id": user_id}}),
              "api_key": API_KEY, "authorization": token(user_id),
              "stream-auth-type": "jwt", **overrides}
    return f"ws://{server.host}:{server.port}/connect?{urlencode(params)}"


@contextmanager
def client(server: RunningServer, user_id: str) -> Iterator[tuple[ClientConnection, str]]:
    """A connected client and its connection id (from the first health check)."""
    with connect(ws_url(server, user_id), open_timeout=5) as conn:
        first = json.loads(conn.recv(timeout=5))
        assert first["type"] == "health.check"
        yield conn, first["connection_id"]


def rest(server: RunningServer, user_id: str, path: str, body: dict[str, Any],
         **params: str) -> requests.Response:
    """A REST call authenticated as the user, as the JS SDK sends it."""
    headers = {"Authorization": token(user_id), "stream-auth-type": "jwt"}
    return requests.post(f"{server.url}{path}", json=body, headers=headers, timeout=5,
                         params={"api_key": API_KEY, "user_id": user_id, **params})


def watch(server: RunningServer, user_id: str, connection_id: str) -> dict[str, Any]:
    body = {"state": True, "watch": True, "presence": False}
    response = rest(server, user_id, f"{CHANNEL}/query", body, connection_id=connection_id)
    assert response.status_code == 201, response.text  # GetOrCreateChannel: 201
    return response.json()


def next_event(conn: ClientConnection, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    while True:
        event = json.loads(conn.recv(timeout=5))
        if event["type"] not in skip:
            return event


def health_check_reply(conn: ClientConnection) -> dict[str, Any]:
    """Ask for a health check and return the next message: everything queued before it
    arrives first, so an event that reached this connection cannot hide behind it."""
    conn.send(json.dumps([{"type": "health.check", "client_id": "x"}]))
    return json.loads(conn.recv(timeout=5))


def test_connect_sends_a_health_check_with_the_connection_id_and_answers_health_checks(
    server, state
):
    with client(server, "gpt-bot") as (conn, connection_id):
        reply = health_check_reply(conn)
    assert reply["type"] == "health.check" and reply["connection_id"] == connection_id
    assert state.requests["Connect"] == 1 and "gpt-bot" in state.users


@pytest.mark.parametrize(("overrides", "code"), [
    ({"api_key": "wrong"}, 2),
    ({"authorization": token("gpt-bot", "another-secret-0123456789abcdef01234")}, 43),
    ({"authorization": token("somebody-else")}, 5),
    ({"authorization": jwt.encode({"server": True}, API_SECRET, algorithm="HS256")}, 5),
])
def test_bad_credentials_get_stream_s_error_event_then_a_close_1000(server, overrides, code):
    with connect(ws_url(server, "gpt-bot", **overrides), open_timeout=5) as conn:
        event = json.loads(conn.recv(timeout=5))
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=5)
    assert event["type"] == "connection.error"
    assert (event["error"]["code"], event["error"]["StatusCode"]) == (code, 401)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_a_plain_get_of_connect_is_refused(server):
    assert requests.get(f"{server.url}/connect", timeout=5).status_code == 400


def test_stop_reaches_watchers_only_not_plain_event_hooks(server, state):
    calls: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    hooks = Flask("hooks")

    @hooks.post("/<name>")
    def hook(name: str) -> str:
        calls.put((name, request.get_json()))
        return ""

    with start_server(hooks) as receiver:
        base = {"enabled": True, "hook_type": "webhook", "event_types": ["ai_indicator.stop"]}
        state.update_app({"event_hooks": [
            {**base, "webhook_url": f"{receiver.url}/plain"},
            {**base, "webhook_url": f"{receiver.url}/custom", "should_send_custom_events": True},
        ]})
        with client(server, "gpt-bot") as (bot, bot_id), client(server, "carl") as (carl, _):
            assert watch(server, "gpt-bot", bot_id)["watcher_count"] == 1
            sent = rest(server, "sam", f"{CHANNEL}/event", {"event": STOP})
            assert sent.status_code == 201, sent.text
            got = next_event(bot)
            assert health_check_reply(carl)["type"] == "health.check"  # carl got nothing
        name, posted = calls.get(timeout=5)
    assert (got["type"], got["cid"], got["user"]["id"]) == ("ai_indicator.stop",
                                                           "messaging:general", "sam")
    assert (name, posted["type"]) == ("custom", "ai_indicator.stop")
    (forwarded,) = state.feed.of_kind("event_hook")
    assert forwarded["urls"] == [f"{receiver.url}/custom"]  # never the plain hook
    assert calls.empty()


def test_stop_watching_and_closing_end_the_watch(server, state):
    with client(server, "gpt-bot") as (bot, bot_id):
        watch(server, "gpt-bot", bot_id)
        stopped = rest(server, "gpt-bot", f"{CHANNEL}/stop-watching", {},
                       connection_id=bot_id)
        assert stopped.status_code == 201, stopped.text
        rest(server, "sam", f"{CHANNEL}/event", {"event": STOP}).raise_for_status()
        assert health_check_reply(bot)["type"] == "health.check"  # the stop did not come
        watch(server, "gpt-bot", bot_id)
    wait_for(lambda: not state.connections.watchers("messaging:general"), 5, "the unwatch")


def test_watchers_get_the_channel_s_messages_too(server, state):
    with client(server, "gpt-bot") as (bot, bot_id):
        watch(server, "gpt-bot", bot_id)
        state.send_message("messaging", "general", {"text": "hello", "user_id": "sam"})
        event = next_event(bot)
    assert (event["type"], event["message"]["text"]) == ("message.new", "hello")


def test_watching_needs_the_caller_s_own_connection(server):
    with client(server, "gpt-bot") as (_, bot_id):
        body = {"watch": True, "state": True}
        missing = rest(server, "gpt-bot", f"{CHANNEL}/query", body)
        theirs = rest(server, "carl", f"{CHANNEL}/query", body, connection_id=bot_id)
        unknown = rest(server, "gpt-bot", f"{CHANNEL}/query", body, connection_id="nope")
    assert (missing.status_code, missing.json()["code"]) == (400, 4)
    assert (theirs.status_code, theirs.json()["code"]) == (400, 46)
    assert (unknown.status_code, unknown.json()["code"]) == (400, 46)


def test_user_tokens_are_refused_on_server_only_operations(server):
    headers = {"Authorization": token("sam"), "stream-auth-type": "jwt"}
    response = requests.get(f"{server.url}/app", params={"api_key": API_KEY},
                            headers=headers, timeout=5)
    assert (response.status_code, response.json()["code"]) == (401, 5)


def test_a_dropped_connection_closes_without_a_close_frame(server, state):
    with client(server, "gpt-bot") as (bot, bot_id):
        watch(server, "gpt-bot", bot_id)
        assert state.connections.drop_all("gpt-bot") == 1
        with pytest.raises(ConnectionClosed) as closed:
            bot.recv(timeout=5)
    assert closed.value.rcvd is None
    wait_for(lambda: state.connections.get(bot_id) is None, 5, "the connection to go")
