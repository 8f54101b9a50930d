"""The emulator answers as Stream does, not more kindly: per-second rate limits, code 4 for a
missing message, 201 where the spec says 201, `channel` in GetMessage, refused partial
updates. Each test names the source of the rule it checks (see the emulator's comments)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.emulator import EmulatorState
from gptbot.stream.api import MessageExists, StreamApi
from tests.support.emulated import BOT, Emulated, WallClock, refused, running

API_KEY = "fidelity-key"
API_SECRET = "fidelity-secret-long-enough-for-hs256-0123456789"
SECOND = 1_700_000_040  # a minute boundary, so the seconds below stay in one minute


@pytest.fixture
def clock() -> WallClock:
    return WallClock(SECOND + 5.25)


@pytest.fixture
def emu(clock: WallClock) -> Iterator[Emulated]:
    state = EmulatorState(API_KEY, API_SECRET, clock=clock)
    state.ensure_channel("messaging", "general", BOT)
    with running(state) as emulated:
        yield emulated


def limit_headers(response: requests.Response) -> tuple[str | None, ...]:
    names = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
    return tuple(response.headers.get(name) for name in names)


# -- 1. rate limits: per minute and per second (docs rate_limits, "App Rate Limits") -------


def test_bursts_are_limited_to_a_thirtieth_of_the_minute_budget(
    emu: Emulated, clock: WallClock
) -> None:
    emu.state.rate_limits["messages"] = 300  # so 10 per second
    emu.state.rate_limiter.bursts = True
    for i in range(10):
        emu.send(str(i))
    assert limit_headers(emu.seen[-1]) == ("300", "290", str(SECOND + 60))
    error = refused(emu.send, "11th in the second")
    assert (error.status_code, error.error_code) == (429, 9)
    assert limit_headers(emu.seen[-1]) == ("10", "0", str(SECOND + 6))
    clock.at += 1  # the next second, same minute
    emu.send("next second")
    assert limit_headers(emu.seen[-1]) == ("300", "289", str(SECOND + 60))
    assert len(emu.state.messages) == 11


def test_without_bursts_only_the_minute_budget_counts(emu: Emulated) -> None:
    emu.state.rate_limits["messages"] = 300
    for i in range(11):
        emu.send(str(i))
    assert limit_headers(emu.seen[-1]) == ("300", "289", str(SECOND + 60))


# -- 2. a missing message: code 4 "doesn't exist" (stream-chat-react-native issue #2257) ---


def _missing_calls(client: StreamChat) -> dict[str, Any]:
    return {
        "GetMessage": lambda: client.get_message("nope"),
        "UpdateMessagePartial": lambda: client.update_message_partial(
            "nope", {"set": {"text": "x"}}, BOT),
        "EphemeralMessageUpdate": lambda: client.patch(
            "messages/nope/ephemeral", data={"set": {"text": "x"}, "user": {"id": BOT}}),
        "UpdateMessage": lambda: client.update_message({"id": "nope", "text": "x",
                                                        "user_id": BOT}),
        "GetReplies": lambda: client.channel("messaging", "general").get_replies("nope"),
    }


@pytest.mark.parametrize("op", ["GetMessage", "UpdateMessagePartial", "EphemeralMessageUpdate",
                                "UpdateMessage", "GetReplies"])
def test_a_missing_message_is_streams_input_error_code_4(emu: Emulated, op: str) -> None:
    error = refused(_missing_calls(emu.client)[op])
    assert (error.status_code, error.error_code) == (400, 4)
    assert error.error_message == f'{op} failed with error: "Message with id nope doesn\'t exist"'


def test_the_bot_tells_a_duplicate_id_from_another_code_4(emu: Emulated) -> None:
    """StreamApi reads a code-4 send back: ours is a duplicate, a missing parent is not."""
    api = StreamApi(emu.client, attempts=1)
    api.send_message(("messaging", "general"), {"id": "gpt-1", "text": ""}, BOT)
    with pytest.raises(MessageExists):
        api.send_message(("messaging", "general"), {"id": "gpt-1", "text": ""}, BOT)
    orphan = {"id": "gpt-2", "text": "", "parent_id": "gone"}
    with pytest.raises(StreamAPIException) as error:
        api.send_message(("messaging", "general"), orphan, BOT)
    assert error.value.error_code == 4 and not isinstance(error.value, MessageExists)
    assert emu.state.requests["GetMessage"] == 1  # "gpt-2" was read back: code 4, not ours


# -- 3. 201 where spec-v1 declares 201 (GetStream/protocol openapi/chat-openapi.json) -------


def test_each_operation_answers_the_spec_status(emu: Emulated) -> None:
    client, message_id = emu.client, emu.send()["id"]
    calls = [
        ("UpdateMessagePartial", 201,
         lambda: client.update_message_partial(message_id, {"set": {"text": "a"}}, BOT)),
        ("UpdateMessage", 201,
         lambda: client.update_message({"id": message_id, "text": "b", "user_id": BOT})),
        ("EphemeralMessageUpdate", 200,
         lambda: client.patch(f"messages/{message_id}/ephemeral",
                              data={"set": {"text": "c"}, "user": {"id": BOT}})),
        ("GetOrCreateChannel", 201, lambda: client.channel("messaging", "general").query()),
        ("CreateCommand", 201, lambda: client.create_command({"name": "gpt",
                                                              "description": "Ask"})),
        ("UpdateCommand", 201, lambda: client.update_command("gpt", description="Ask it")),
        ("UpdateChannelType", 201, lambda: client.update_channel_type("messaging",
                                                                      commands=["gpt"])),
        ("GetMessage", 200, lambda: client.get_message(message_id)),
        ("GetApp", 200, client.get_app_settings),
    ]
    for op, status, call in calls:
        call()
        assert (op, emu.seen[-1].status_code) == (op, status)


# -- 4. GetMessage answers a MessageWithChannelResponse (spec-v1 GetMessageResponse) --------


def test_get_message_carries_its_channel(emu: Emulated) -> None:
    sent = emu.send("hello")
    found = emu.client.get_message(sent["id"])["message"]
    channel = found.pop("channel")
    assert found == sent
    assert (channel["cid"], channel["type"], channel["id"]) == (
        "messaging:general", "messaging", "general")
    assert {"created_at", "updated_at", "frozen", "disabled", "config"} <= set(channel)
    assert "channel" not in emu.state.messages[sent["id"]]  # shown, not stored


# -- 5. partial updates: only Stream's whitelist (stream-chat-js PR #576) --------------------


@pytest.mark.parametrize("field", ["id", "cid", "user", "created_at", "updated_at", "type",
                                   "parent_id", "reply_count", "show_in_channel", "i18n"])
def test_partial_update_refuses_streams_own_fields(emu: Emulated, field: str) -> None:
    sent = emu.send("keep me")
    for body in ({"set": {field: "x"}}, {"unset": [field]}):
        error = refused(emu.client.update_message_partial, sent["id"], body, BOT)
        assert (error.status_code, error.error_code) == (400, 4)
        assert f"['{field}'] cannot be updated" in error.error_message
    assert emu.state.messages[sent["id"]] == sent
    assert emu.state.requests["UpdateMessagePartial"] == 2


def test_partial_update_accepts_the_whitelist_and_custom_fields(emu: Emulated) -> None:
    sent = emu.send("old")
    changes = {"text": "new", "attachments": [{"type": "ai_tool_call"}], "silent": True,
               "pinned": True, "generating": False, "details.status": "done"}
    updated = emu.client.update_message_partial(sent["id"], {"set": changes}, BOT)["message"]
    assert (updated["text"], updated["silent"], updated["pinned"]) == ("new", True, True)
    assert (updated["generating"], updated["details"]) == (False, {"status": "done"})
