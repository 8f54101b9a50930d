"""Channel members in the emulator (QueryMembers, UpdateChannel with add_members), and the
bot's `/gpt human` handoff run end to end against it: operator added and mentioned, the bot
quiet until the operator resumes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.emulator import EmulatorState, create_emulator_app, send_user_message, start_server
from gptbot.services import build_services
from tests.support.common import API_KEY, API_SECRET, make_config, sse_chat_stream
from tests.support.loop import chunks, emulator_state, running_bot, wait_for
from tests.support.servers import FakeLLM, serve_llm

ANSWER = "Open Settings, then Billing, and edit the address there."
BOT = "gpt-bot"


@pytest.fixture
def served() -> Iterator[tuple[EmulatorState, StreamChat]]:
    state = emulator_state()
    with start_server(create_emulator_app(state)) as server:
        yield state, StreamChat(API_KEY, API_SECRET, base_url=server.url)


def test_members_are_added_and_queried(served) -> None:
    state, client = served
    channel = client.channel("messaging", "general")
    channel.create(BOT)
    assert channel.query_members({}) == []  # Stream makes not even the creator a member

    response = channel.add_members(["ann", {"user_id": "bob"}])
    assert response["channel"]["member_count"] == 2
    assert [m["user_id"] for m in response["members"]] == ["ann", "bob"]
    channel.add_members(["ann"])  # already a member: nothing changes
    members = channel.query_members({})
    assert [(m["user"]["id"], m["channel_role"]) for m in members] == [
        ("ann", "channel_member"),
        ("bob", "channel_member"),
    ]
    assert [m["user_id"] for m in channel.query_members({"id": {"$in": ["bob", "x"]}})] == ["bob"]
    assert [m["user_id"] for m in channel.query_members({"id": "ann"})] == ["ann"]
    assert [m["user_id"] for m in channel.query_members({}, limit=1, offset=1)] == ["bob"]
    assert [m["user_id"] for m in channel.query()["members"]] == ["ann", "bob"]
    assert state.requests["QueryMembers"] == 5 and state.requests["UpdateChannel"] == 2


def test_members_given_at_creation_and_errors(served) -> None:
    state, client = served
    created = client.channel("messaging", "team", {"members": ["ann"]}).create(BOT)
    assert [m["user_id"] for m in created["members"]] == ["ann"]
    assert list(state.members["messaging:team"]) == ["ann"]
    missing = client.channel("messaging", "nowhere")
    with pytest.raises(StreamAPIException) as error:
        missing.query_members({})
    assert error.value.status_code == 404
    with pytest.raises(StreamAPIException) as error:
        missing.add_members(["ann"])
    assert error.value.status_code == 404
    with pytest.raises(StreamAPIException) as error:
        client.channel("messaging", "team").update({"name": "renamed"})
    assert error.value.status_code == 400


# -- the handoff, end to end --------------------------------------------------------------


@pytest.fixture
def loop(tmp_path) -> Iterator[EmulatorState]:
    llm = FakeLLM(sse_chat_stream(chunks(ANSWER, 9)), piece_sizes=(1, 16), delay=0.001)
    state = emulator_state()
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        config = make_config(
            tmp_path,
            stream_chat_url=stream.url,
            openai_base_url=llm_server.url + "/v1",
            update_interval=0.05,
        )
        config = replace(config, safety=replace(config.safety, operators=("ann",)))
        with running_bot(config, build_services(config), None):
            yield state


def say(state: EmulatorState, user: str, text: str) -> dict:
    return send_user_message(state, "messaging", "general", user, text)


def bot_messages(state: EmulatorState) -> list[dict]:
    return [m for m in state.messages.values() if m["user"]["id"] == BOT]


def test_human_calls_the_operator_and_resume_hands_back(loop) -> None:
    state = loop
    asked = say(state, "alice", "/gpt human please")
    assert asked["type"] == "ephemeral"
    [call] = wait_for(lambda: bot_messages(state), timeout=15, what="the operators' message")

    members = state.members["messaging:general"]
    assert "ann" in members and members["ann"]["channel_role"] == "channel_member"
    assert [u["id"] for u in call["mentioned_users"]] == ["ann"]
    assert "@ann" in call["text"] and call["cid"] == "messaging:general"
    assert state.requests["UpdateChannel"] == 1 and state.requests["QueryMembers"] >= 1

    quiet = say(state, "bob", "/gpt how do I change my address?")
    assert quiet["type"] == "ephemeral"
    assert quiet["text"].startswith("A person is handling this conversation now")
    assert bot_messages(state) == [call]

    resumed = say(state, "ann", "/gpt resume")
    assert resumed["type"] == "ephemeral"
    say(state, "bob", "/gpt how do I change my address?")
    answered = wait_for(
        lambda: [m for m in bot_messages(state)[1:] if not m.get("generating")],
        timeout=15,
        what="the bot's answer after resume",
    )
    assert answered[0]["text"] == ANSWER
    assert state.requests["UpdateChannel"] == 1  # resuming adds nobody
