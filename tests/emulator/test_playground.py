"""The playground's JSON API and its server-sent-events feed, on top of the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from stream_chat import StreamChat

from gptbot.emulator import EmulatorState, RunningServer, start_server
from gptbot.emulator.playground import create_dev_app, slug, visible
from tests.support.common import API_KEY, API_SECRET
from tests.support.loop import emulator_state

API = "/playground/api"


@pytest.fixture
def state() -> EmulatorState:
    return emulator_state()


@pytest.fixture
def app(state: EmulatorState) -> Flask:
    return create_dev_app(state, heartbeat_s=0.05)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def bot(state: EmulatorState) -> Iterator[RunningServer]:
    """A stand-in command handler: `/gpt help` answers privately, anything else is kept."""
    handler = Flask("handler")

    @handler.post("/webhook")
    def webhook() -> dict[str, Any]:
        message = request.get_json()["message"]
        if message["args"] == "help":
            return {"message": {**message, "type": "ephemeral", "text": "only for you"}}
        return {"message": message}

    with start_server(handler) as server:
        state.create_command({"name": "gpt", "description": "Ask the AI", "args": "[question]"})
        state.update_channel_type("messaging", {"commands": ["giphy", "gpt"]})
        state.update_app({"custom_action_handler_url": server.url + "/webhook"})
        yield server


def send(client: FlaskClient, text: str, user: Any = "alice", **fields: Any) -> Any:
    return client.post(f"{API}/send", json={"text": text, "user": user, **fields})


def backlog(client: FlaskClient, viewer: str, since: int = 0, **headers: str) -> list[dict]:
    """The changes a viewer's event stream replays after `since`, up to the first heartbeat."""
    url = f"{API}/events?user={viewer}&since={since}"
    response = client.get(url, buffered=False, headers=headers)
    assert response.mimetype == "text/event-stream"
    changes = []
    try:
        for chunk in response.iter_encoded():
            frame = chunk.decode()
            if frame.startswith(": heartbeat"):
                break
            if frame.startswith("id: "):
                seq, data = frame.split("\n")[:2]
                changes.append(json.loads(data.removeprefix("data: ")))
                assert seq == f"id: {changes[-1]['seq']}"
    finally:
        response.close()  # runs the stream's cleanup: the subscription is dropped
    return changes


# -- page and routing --------------------------------------------------------------------


def test_page_and_static_files_are_served(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and b"gptbot playground" in page.data
    for name, kind in [("app.js", "javascript"), ("app.css", "text/css")]:
        response = client.get(f"/playground/static/{name}")
        assert response.status_code == 200 and kind in response.content_type
        response.close()


def test_stream_rest_api_still_needs_stream_auth(state: EmulatorState, client: FlaskClient) -> None:
    assert client.get("/app").status_code == 401  # no api_key, no JWT: refused like Stream
    with start_server(create_dev_app(state)) as server:
        sdk = StreamChat(API_KEY, API_SECRET, base_url=server.url)
        assert sdk.get_app_settings()["app"]["name"] == "gptbot-emulator"
        assert requests.get(server.url + "/", timeout=5).status_code == 200


# -- channels, messages, threads, commands -------------------------------------------------


def test_general_exists_and_channels_are_created_by_name(client: FlaskClient) -> None:
    created = client.post(f"{API}/channels", json={"name": "Release Notes!", "user": "alice"})
    assert created.status_code == 201
    assert created.json["channel"]["cid"] == "messaging:release-notes"
    listed = client.get(f"{API}/channels").json
    assert [c["cid"] for c in listed["channels"]] == [
        "messaging:general",
        "messaging:release-notes",
    ]
    assert listed["seq"] >= 2
    bad = client.post(f"{API}/channels", json={"name": "!!!"})
    assert bad.status_code == 400 and "channel name" in bad.json["error"]


def test_slug_makes_stream_channel_ids() -> None:
    assert slug("  Release Notes! 2024 ") == "release-notes-2024"
    assert slug("ops_team") == "ops_team" and slug("x" * 80) == "x" * 64


def test_send_stores_the_message_and_history_lists_it(
    state: EmulatorState, client: FlaskClient
) -> None:
    sent = send(client, "hello **there**", {"id": "alice", "name": "Alice"})
    assert sent.status_code == 201
    message = sent.json["message"]
    assert message["user"]["id"] == "alice" and state.users["alice"]["name"] == "Alice"
    history = client.get(f"{API}/channels/messaging/general/messages?user=bob").json
    assert [m["id"] for m in history["messages"]] == [message["id"]]
    assert history["channel"]["cid"] == "messaging:general" and history["seq"] >= 1


def test_renaming_the_user_updates_the_stored_name(
    state: EmulatorState, client: FlaskClient
) -> None:
    send(client, "one", {"id": "sam", "name": "Sam"})
    send(client, "two", {"id": "sam", "name": "Sam Lee"})
    assert state.users["sam"]["name"] == "Sam Lee"


def test_bad_input_is_a_json_error(client: FlaskClient) -> None:
    assert send(client, "   ").status_code == 400
    bad_user = send(client, "hi", {"id": "no spaces allowed"})
    assert bad_user.status_code == 400 and "user id" in bad_user.json["error"]
    assert client.get(f"{API}/events?user=a%20b").status_code == 400
    assert client.post(f"{API}/send", data="nope").status_code == 400


def test_a_command_without_a_handler_url_reports_streams_error(
    state: EmulatorState, client: FlaskClient
) -> None:
    state.create_command({"name": "gpt", "description": "Ask"})
    state.update_channel_type("messaging", {"commands": ["gpt"]})
    response = send(client, "/gpt hi")
    assert response.status_code == 400 and response.json["code"] == 44


def test_commands_lists_what_the_channel_type_enables(
    bot: RunningServer, client: FlaskClient
) -> None:
    commands = client.get(f"{API}/commands/messaging").json["commands"]
    assert [c["name"] for c in commands] == ["giphy", "gpt"]
    assert commands[1] == {
        "name": "gpt",
        "description": "Ask the AI",
        "args": "[question]",
        "set": "",
    }
    assert client.get(f"{API}/commands/nope").status_code == 404


def test_ephemeral_results_only_reach_their_sender(bot: RunningServer, client: FlaskClient) -> None:
    answer = send(client, "/gpt help").json["message"]
    assert answer["type"] == "ephemeral" and answer["text"] == "only for you"
    mine = client.get(f"{API}/channels/messaging/general/messages?user=alice").json["messages"]
    theirs = client.get(f"{API}/channels/messaging/general/messages?user=bob").json["messages"]
    assert [m["id"] for m in mine] == [answer["id"]] and theirs == []


def test_thread_lists_parent_replies_and_own_private_replies(
    bot: RunningServer, client: FlaskClient
) -> None:
    root = send(client, "root").json["message"]
    reply = send(client, "/gpt why", parent_id=root["id"]).json["message"]
    private = send(client, "/gpt help", parent_id=root["id"]).json["message"]
    thread = client.get(f"{API}/messages/{root['id']}/replies?user=alice").json
    assert thread["parent"]["id"] == root["id"] and thread["parent"]["reply_count"] == 1
    assert [m["id"] for m in thread["messages"]] == [reply["id"], private["id"]]
    other = client.get(f"{API}/messages/{root['id']}/replies?user=bob").json
    assert [m["id"] for m in other["messages"]] == [reply["id"]]
    assert client.get(f"{API}/messages/missing/replies").status_code == 404


def test_stop_sends_the_ai_indicator_stop_event(state: EmulatorState, client: FlaskClient) -> None:
    body = {
        "channel_type": "messaging",
        "channel_id": "general",
        "user": {"id": "alice"},
        "message_id": "gpt-alice-1",
    }
    response = client.post(f"{API}/stop", json=body)
    assert response.status_code == 201
    [event] = state.events
    assert (event["type"], event["message_id"], event["cid"]) == (
        "ai_indicator.stop",
        "gpt-alice-1",
        "messaging:general",
    )
    assert event["user"]["id"] == "alice"
    missing = client.post(f"{API}/stop", json={**body, "channel_id": "nowhere"})
    assert missing.status_code == 404


# -- the event stream ---------------------------------------------------------------------


def test_feed_filters_private_messages_per_viewer(bot: RunningServer, client: FlaskClient) -> None:
    public = send(client, "/gpt hi").json["message"]
    private = send(client, "/gpt help").json["message"]
    alice = [c["message"]["id"] for c in backlog(client, "alice") if c["kind"] == "message.new"]
    bob = [c["message"]["id"] for c in backlog(client, "bob") if c["kind"] == "message.new"]
    assert alice == [public["id"], private["id"]] and bob == [public["id"]]
    kinds = {c["kind"] for c in backlog(client, "bob")}
    assert kinds == {"channel.created", "message.new", "hook"}


def test_feed_resumes_after_last_event_id(state: EmulatorState, client: FlaskClient) -> None:
    send(client, "first")
    seq = client.get(f"{API}/channels").json["seq"]
    second = send(client, "second").json["message"]
    replayed = backlog(client, "bob", since=0, **{"Last-Event-ID": str(seq)})
    assert [c["message"]["id"] for c in replayed] == [second["id"]]
    assert backlog(client, "bob", since=seq + 1) == []
    assert state.feed._subscribers == []  # every closed stream unsubscribed


def test_visible_rules() -> None:
    private = {"kind": "message.new", "visible_to": "alice"}
    assert visible(private, "alice") and not visible(private, "bob")
    assert visible({"kind": "message.new", "visible_to": None}, "bob")
    assert visible({"kind": "message.updated", "ephemeral": True}, "bob")
    assert not visible({"kind": "something.else"}, "bob")


def test_live_stream_over_http_with_heartbeats(state: EmulatorState) -> None:
    with start_server(create_dev_app(state, heartbeat_s=0.2)) as server:
        url = f"{server.url}{API}/events?user=bob"
        with requests.get(url, stream=True, timeout=5) as response:
            lines = (line for line in response.iter_lines(decode_unicode=True) if line)
            assert next(lines) == "retry: 1000"  # the subscription exists from here on
            state.send_message("messaging", "general", {"text": "live!", "user_id": "alice"})
            frame = [next(lines), next(lines)]
            assert frame[0].startswith("id: ")
            change = json.loads(frame[1].removeprefix("data: "))
            assert (change["kind"], change["message"]["text"]) == ("message.new", "live!")
            assert ": heartbeat" in [next(lines) for _ in range(3)]
