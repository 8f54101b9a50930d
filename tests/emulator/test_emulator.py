"""The Stream Chat emulator, driven by the real stream-chat SDK over loopback HTTP."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from flask import Flask, Response, request
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.emulator import (
    ApiError,
    EmulatorState,
    RunningServer,
    create_emulator_app,
    send_user_message,
    start_server,
)
from tests.support.common import API_KEY, API_SECRET
from tests.support.loop import emulator_state

BOT = "gpt-bot"


@pytest.fixture
def state() -> EmulatorState:
    return emulator_state()


@pytest.fixture
def server(state: EmulatorState) -> Iterator[RunningServer]:
    with start_server(create_emulator_app(state)) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> StreamChat:
    return StreamChat(API_KEY, API_SECRET, base_url=server.url)


def api_error(call: Any, *args: Any, **kwargs: Any) -> StreamAPIException:
    with pytest.raises(StreamAPIException) as info:
        call(*args, **kwargs)
    return info.value


def bot_message(client: StreamChat, text: str = "hi", **fields: Any) -> dict[str, Any]:
    channel = client.channel("messaging", "general")
    return channel.send_message({"text": text, **fields}, BOT)["message"]


# -- auth, users, commands, channel types, app ------------------------------------------


def test_wrong_secret_or_key_is_rejected_like_stream(server: RunningServer) -> None:
    wrong_secret = api_error(StreamChat(API_KEY, "w" * 40, base_url=server.url).get_app_settings)
    assert (wrong_secret.status_code, wrong_secret.error_code) == (401, 43)
    wrong_key = api_error(StreamChat("nope", API_SECRET, base_url=server.url).get_app_settings)
    assert (wrong_key.status_code, wrong_key.error_code) == (401, 2)
    user_token = jwt.encode({"user_id": "alice"}, API_SECRET, algorithm="HS256")
    response = requests.get(
        f"{server.url}/app", params={"api_key": API_KEY}, headers={"Authorization": user_token}
    )
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "message", "StatusCode", "duration", "more_info"}


def test_upsert_user_replaces_data_but_keeps_created_at(client: StreamChat) -> None:
    first = client.upsert_user({"id": BOT, "name": "GPT", "team": "x"})["users"][BOT]
    second = client.upsert_user({"id": BOT, "name": "GPT 2"})["users"][BOT]
    assert (second["name"], second["role"], "team" in second) == ("GPT 2", "user", False)
    assert second["created_at"] == first["created_at"]


def test_command_lifecycle(client: StreamChat) -> None:
    created = client.create_command({"name": "gpt", "description": "Ask", "args": "[q]"})
    assert created["command"]["name"] == "gpt"
    assert client.get_command("gpt")["description"] == "Ask"
    updated = client.update_command("gpt", description="Ask the bot")["command"]
    assert (updated["description"], updated["args"]) == ("Ask the bot", "[q]")
    names = {c["name"] for c in client.list_commands()["commands"]}
    assert {"gpt", "giphy"} <= names
    assert api_error(client.create_command, {"name": "gpt", "description": "x"}).error_code == 4
    assert client.delete_command("gpt")["name"] == "gpt"
    missing = api_error(client.get_command, "gpt")
    assert (missing.status_code, missing.error_code) == (404, 16)


def test_channel_type_commands_read_modify_write(client: StreamChat) -> None:
    client.create_command({"name": "gpt", "description": "Ask"})
    current = client.get_channel_type("messaging")
    assert current["max_message_length"] == 5000
    names = [c["name"] for c in current["commands"]]
    response = client.update_channel_type("messaging", commands=[*names, "gpt"])
    assert response["commands"] == [*names, "gpt"]
    after = [c["name"] for c in client.get_channel_type("messaging")["commands"]]
    assert after == [*names, "gpt"]
    unknown = api_error(client.update_channel_type, "messaging", commands=["nope"])
    assert (unknown.status_code, unknown.error_code) == (400, 4)
    assert api_error(client.delete_command, "gpt").error_code == 4  # still referenced
    client.update_channel_type("team", commands=["all"])
    assert "gpt" in {c["name"] for c in client.get_channel_type("team")["commands"]}


def test_app_settings_are_kept(client: StreamChat) -> None:
    url = "http://127.0.0.1:9/hook?type={type}"
    client.update_app_settings(custom_action_handler_url=url, event_hooks=[])
    app = client.get_app_settings()["app"]
    assert (app["custom_action_handler_url"], app["event_hooks"]) == (url, [])


# -- messages ---------------------------------------------------------------------------


def test_send_message_stores_fields_and_rejects_a_duplicate_id(
    client: StreamChat, state: EmulatorState
) -> None:
    channel = client.channel("messaging", "general")
    sent = channel.send_message(
        {"text": "", "id": "gpt-1", "ai_generated": True}, BOT, skip_push=True
    )
    message = sent["message"]
    assert (message["id"], message["type"], message["cid"]) == (
        "gpt-1",
        "regular",
        "messaging:general",
    )
    assert (message["ai_generated"], message["user"]["id"]) == (True, BOT)
    assert {"created_at", "updated_at"} <= set(message)
    duplicate = api_error(channel.send_message, {"text": "again", "id": "gpt-1"}, BOT)
    assert (duplicate.status_code, duplicate.error_code) == (400, 4)
    assert "a message with ID gpt-1 already exists" in duplicate.error_message
    assert bot_message(client)["id"] != "gpt-1"
    assert state.requests["SendMessage"] == 3
    assert state.persisted_writes == 2


def test_message_length_limit_follows_the_channel_type(client: StreamChat) -> None:
    assert api_error(bot_message, client, "x" * 5001).error_code == 20
    client.update_channel_type("messaging", max_message_length=10)
    message = bot_message(client, "short")
    assert api_error(bot_message, client, "x" * 11).error_code == 20
    too_long = api_error(
        client.update_message_partial, message["id"], {"set": {"text": "y" * 11}}, BOT
    )
    assert (too_long.status_code, too_long.error_code) == (400, 20)


def test_partial_and_full_updates(client: StreamChat, state: EmulatorState) -> None:
    message = bot_message(client, "", ai_generated=True, generating=True)
    updates = {"set": {"text": "answer", "generating": False}, "unset": ["ai_generated"]}
    updated = client.update_message_partial(message["id"], updates, BOT)["message"]
    assert (updated["text"], updated["generating"], "ai_generated" in updated) == (
        "answer",
        False,
        False,
    )
    assert client.get_message(message["id"])["message"]["text"] == "answer"
    full = client.update_message({"id": message["id"], "text": "final", "user": {"id": BOT}})
    assert (full["message"]["text"], "generating" in full["message"]) == ("final", False)
    ops = [entry["op"] for entry in state.history[message["id"]]]
    assert ops == ["SendMessage", "UpdateMessagePartial", "UpdateMessage"]
    missing = api_error(client.update_message_partial, "nope", {"set": {"text": "x"}}, BOT)
    assert (missing.status_code, missing.error_code) == (400, 4)  # Stream's, see test_fidelity


def test_ephemeral_patch_reaches_the_feed_but_not_the_store(
    client: StreamChat, state: EmulatorState
) -> None:
    message = bot_message(client, "")
    feed = state.subscribe()
    body = {"set": {"text": "partial", "generating": True}, "user": {"id": BOT}}
    response = client.patch(f"messages/{message['id']}/ephemeral", data=body)
    assert response["message"]["text"] == "partial"
    change = feed.get(timeout=1)
    assert (change["kind"], change["ephemeral"], change["message"]["text"]) == (
        "message.updated",
        True,
        "partial",
    )
    assert client.get_message(message["id"])["message"]["text"] == ""
    assert (state.persisted_writes, state.requests["EphemeralMessageUpdate"]) == (1, 1)
    assert [e["persisted"] for e in state.history[message["id"]]] == [True, False]


def test_events_are_stored_and_published(client: StreamChat, state: EmulatorState) -> None:
    message = bot_message(client)
    channel = client.channel("messaging", "general")
    event = {"type": "ai_indicator.update", "ai_state": "AI_STATE_THINKING"}
    sent = channel.send_event({**event, "message_id": message["id"]}, BOT)["event"]
    assert (sent["cid"], sent["user"]["id"], sent["ai_state"]) == (
        "messaging:general",
        BOT,
        "AI_STATE_THINKING",
    )
    channel.send_event({"type": "ai_indicator.clear", "message_id": message["id"]}, BOT)
    assert [e["type"] for e in state.events] == ["ai_indicator.update", "ai_indicator.clear"]
    assert len(state.feed.of_kind("event")) == 2
    missing = api_error(client.channel("messaging", "nowhere").send_event, event, BOT)
    assert missing.status_code == 404


def test_query_returns_the_latest_top_level_messages(client: StreamChat) -> None:
    ids = [bot_message(client, f"m{i}")["id"] for i in range(3)]
    bot_message(client, "in thread", parent_id=ids[0])
    state = client.channel("messaging", "general").query(messages={"limit": 2})
    assert [m["id"] for m in state["messages"]] == ids[1:]
    config = state["channel"]["config"]
    assert config["max_message_length"] == 5000
    assert [c["name"] for c in config["commands"]] == ["giphy"]
    assert state["members"] == []
    fresh = client.channel("messaging", "fresh")
    assert api_error(fresh.query).error_code == 4  # server side needs created_by
    assert fresh.create(BOT)["channel"]["created_by"]["id"] == BOT


def test_thread_replies(client: StreamChat) -> None:
    parent = bot_message(client, "question")
    replies = [bot_message(client, f"r{i}", parent_id=parent["id"]) for i in range(3)]
    assert replies[0]["type"] == "reply"
    channel = client.channel("messaging", "general")
    page = channel.get_replies(parent["id"], limit=2)["messages"]
    assert [m["text"] for m in page] == ["r1", "r2"]
    assert client.get_message(parent["id"])["message"]["reply_count"] == 3
    assert api_error(bot_message, client, "x", parent_id="missing").error_code == 4
    nested = api_error(bot_message, client, "x", parent_id=replies[0]["id"])
    assert nested.error_code == 21


def test_fault_injection_and_latency(client: StreamChat, state: EmulatorState) -> None:
    state.inject_fault("POST", r"/channels/.+/message$", 429, retry_after=1)
    limited = api_error(bot_message, client)
    assert (limited.status_code, limited.error_code) == (429, 9)
    assert bot_message(client)["text"] == "hi"
    state.latency_s = 0.05
    started = time.perf_counter()
    client.get_app_settings()
    assert time.perf_counter() - started >= 0.05


# -- custom commands: the emulator plays Stream and calls a local handler ------------------


class Handler:
    """A tiny custom-command handler that checks Stream's signature and answers per `mode`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.mode = "regular"
        self.calls: list[dict[str, Any]] = []

    def app(self) -> Flask:
        app = Flask("hook")
        app.add_url_rule("/hook/<name>", "hook", self.handle, methods=["POST"])
        return app

    def handle(self, name: str) -> Response | tuple[str, int]:
        raw = request.get_data()
        gzipped = request.headers.get("Content-Encoding") == "gzip"
        body = gzip.decompress(raw) if gzipped else raw
        expected = hmac.new(API_SECRET.encode(), body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        self.calls.append(
            {
                "name": name,
                "headers": dict(request.headers),
                "payload": payload,
                "signed": hmac.compare_digest(expected, request.headers["X-Signature"]),
                "stored_yet": payload["message"]["id"] in self.state.messages,
            }
        )
        return self.answer(payload)

    def answer(self, payload: dict[str, Any]) -> Response | tuple[str, int]:
        if self.mode == "slow":
            time.sleep(1.3)
        if self.mode == "fail":
            return "boom", 500
        message: dict[str, Any] = {"type": "ephemeral", "text": "Thinking…"}
        if self.mode == "regular":
            message = {**payload["message"], "text": "Asked GPT: hello", "gpt_pending": True}
        return Response(json.dumps({"message": message}), mimetype="application/json")


@pytest.fixture
def handler(client: StreamChat, state: EmulatorState) -> Iterator[Handler]:
    hook = Handler(state)
    with start_server(hook.app()) as hook_server:
        client.create_command({"name": "gpt", "description": "Ask GPT"})
        client.update_channel_type("messaging", commands=["giphy", "gpt"])
        client.update_app_settings(custom_action_handler_url=f"{hook_server.url}/hook/{{type}}")
        yield hook


def test_command_handler_rewrites_the_message(
    handler: Handler, client: StreamChat, state: EmulatorState
) -> None:
    message = send_user_message(state, "messaging", "general", "alice", "/gpt hello")
    (call,) = handler.calls
    assert call["signed"] and not call["stored_yet"]
    assert call["name"] == "gpt"
    headers, payload = call["headers"], call["payload"]
    assert (headers["X-Api-Key"], headers["X-Webhook-Attempt"]) == (API_KEY, "1")
    assert headers["Content-Type"] == "application/json" and headers["X-Webhook-Id"]
    sent = payload["message"]
    assert (sent["command"], sent["args"], sent["text"]) == ("gpt", "hello", "/gpt hello")
    assert (sent["cid"], sent["type"], payload["user"]["id"]) == (
        "messaging:general",
        "regular",
        "alice",
    )
    assert message["id"].startswith("alice-") and message["id"] == sent["id"]
    stored = client.get_message(message["id"])["message"]
    assert (stored["text"], stored["gpt_pending"], stored["type"]) == (
        "Asked GPT: hello",
        True,
        "regular",
    )
    assert state.persisted_writes == 0  # the user's message is not a bot write


def test_ephemeral_answer_is_only_shown_to_the_sender(
    handler: Handler, client: StreamChat, state: EmulatorState
) -> None:
    handler.mode = "ephemeral"
    message = send_user_message(state, "messaging", "general", "alice", "/gpt hello")
    assert (message["type"], message["text"]) == ("ephemeral", "Thinking…")
    assert api_error(client.get_message, message["id"]).error_code == 4  # doesn't exist
    queried = client.channel("messaging", "general").query(messages={"limit": 10})
    assert queried["messages"] == []
    (change,) = state.feed.of_kind("message.new")
    assert (change["visible_to"], change["message"]["id"]) == ("alice", message["id"])


@pytest.mark.parametrize(("mode", "outcome"), [("slow", "timeout"), ("fail", "error")])
def test_failing_handler_saves_the_message_as_typed(
    handler: Handler, client: StreamChat, state: EmulatorState, mode: str, outcome: str
) -> None:
    handler.mode = mode
    message = send_user_message(state, "messaging", "general", "alice", "/gpt hello")
    assert client.get_message(message["id"])["message"]["text"] == "/gpt hello"
    assert state.hook_calls[0]["outcome"] == outcome


def test_compressed_and_redelivered_webhook(handler: Handler, state: EmulatorState) -> None:
    send_user_message(
        state, "messaging", "general", "alice", "/gpt hello", compress=True, deliveries=2
    )
    first, second = handler.calls
    assert first["signed"] and second["signed"]
    assert first["headers"]["Content-Encoding"] == "gzip"
    assert first["headers"]["X-Webhook-Id"] == second["headers"]["X-Webhook-Id"]
    attempts = [call["headers"]["X-Webhook-Attempt"] for call in handler.calls]
    assert attempts == ["1", "2"]


def test_thread_command_and_messages_without_a_handler_call(
    handler: Handler, state: EmulatorState
) -> None:
    parent = send_user_message(state, "messaging", "general", "alice", "plain question")
    reply = send_user_message(state, "messaging", "general", "bob", "/gpt more", parent["id"])
    send_user_message(state, "team", "dev", "bob", "/gpt not enabled here")
    send_user_message(state, "messaging", "general", "bob", "/unknown command")
    (call,) = handler.calls
    assert call["payload"]["message"]["parent_id"] == parent["id"]
    assert (reply["type"], reply["parent_id"]) == ("reply", parent["id"])


def test_command_without_handler_url_is_error_44(client: StreamChat, state: EmulatorState) -> None:
    client.create_command({"name": "gpt", "description": "Ask GPT"})
    client.update_channel_type("messaging", commands=["all"])
    with pytest.raises(ApiError) as info:
        send_user_message(state, "messaging", "general", "alice", "/gpt hello")
    assert info.value.code == 44
