"""Who the operators are, the plain summary, and a handoff Stream refuses."""

from __future__ import annotations

import re

import responses

from gptbot.conversation.handoff import operators_among, plain_summary
from gptbot.core.types import Conversation, Turn
from tests.handoff.test_handoff import start
from tests.support.common import STREAM_URL
from tests.web.test_subcommands import post

MEMBERS = [
    {"user": {"id": "dan", "name": "Dan", "role": "admin"}},
    {"user_id": "erin", "channel_role": "channel_moderator", "user": {"id": "erin"}},
    {"user": {"id": "fay", "name": "Fay", "role": "user"}},
]


def test_user_ids_and_channel_or_stream_roles_are_operators():
    found = operators_among(MEMBERS, ("op1", "role:admin", "role:channel_moderator"))
    assert found == {"op1": "op1", "dan": "Dan", "erin": "erin"}
    assert operators_among(MEMBERS, ("role:support",)) == {}


def test_the_plain_summary_is_the_last_three_questions_one_line_each():
    turns = [Turn(f"r{n}", n, "u", f"User {n}", f"question {n}\n  more", "a") for n in range(5)]
    assert plain_summary(Conversation(turns=turns)) == [
        "User 2 asked: question 2 more", "User 3 asked: question 3 more",
        "User 4 asked: question 4 more"]
    long = plain_summary(Conversation(turns=[Turn("r", 0, "u", "", "x" * 500, "a")]))
    assert long[0].startswith("u asked: x") and long[0].endswith("…") and len(long[0]) < 220
    assert plain_summary(Conversation()) == ["No questions to the assistant here yet."]


def test_nobody_in_an_operator_role_hands_nothing_over(tmp_path, http):
    http.add(responses.GET, re.compile(rf"{STREAM_URL}/members"), json={"members": MEMBERS})
    with start(tmp_path, ("role:support",)) as (client, services, _):
        assert post(client, "human")["text"].startswith("No operator is in this channel")
        post(client, "What is Stream?")
        assert services.queue.pending() == 1


def test_stream_refusing_the_handoff_leaves_the_bot_answering(tmp_path, http):
    http.add(responses.GET, re.compile(rf"{STREAM_URL}/members"), status=403,
             json={"code": 17, "message": "not allowed"})
    with start(tmp_path, ("op1",)) as (client, services, _):
        assert post(client, "human")["text"].startswith("Sorry, I could not reach the operators")
        post(client, "What is Stream?")
        assert services.queue.pending() == 1
