"""Handing a conversation to a person: who the operators are, the message that calls them,
and the mark that keeps the bot quiet there until `/gpt resume`.

The mark is a channel setting `handoff:<conversation key>` (SettingsStore), so a handed-off
thread leaves its channel alone, and the other way round. Operators (GPTBOT_OPERATORS) are
user ids, or `role:<name>`: the channel's members with that channel role or Stream role.
The summary is three lines the model writes from the stored conversation (in the worker:
`summary_request` and `summary_lines`), or, when the model cannot, the last three questions
(`plain_summary`). `Ask.summary` takes whichever lines the caller made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from gptbot.conversation.memory import conversation_key
from gptbot.conversation.summarize import turn_lines
from gptbot.core.types import ChatMessage, ChatRequest, Conversation
from gptbot.llm.tokens import clip_to_tokens
from gptbot.store.settings import SettingsStore
from gptbot.stream.api import MessageExists, StreamApi

PREFIX = "handoff:"
ROLE = "role:"
SUMMARY_TURNS = 3
QUESTION_CHARS = 200
SUMMARY_TOKENS = 200  # three short lines
SUMMARY_INPUT_TOKENS = 3000  # the most recent part of the conversation is what matters
SUMMARY_PROMPT = (
    "A person is taking over this chat conversation from an AI assistant. Write exactly "
    "three short lines for them: what the user needs, what the assistant answered or tried, "
    "and what is still open. Plain text, one line each, no greeting, no preamble, in the "
    "language of the conversation. Do not invent anything."
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")


@dataclass(frozen=True, slots=True)
class Place:
    """A conversation: a channel, or one thread in it."""

    cid: str
    parent_id: str | None = None

    @property
    def key(self) -> str:
        return conversation_key(self.cid, self.parent_id)

    @property
    def channel(self) -> tuple[str, str]:
        channel_type, _, channel_id = self.cid.partition(":")
        return channel_type, channel_id


@dataclass(frozen=True, slots=True)
class Ask:
    """One `/gpt human`: the reply's id, who typed it, their note, the summary lines."""

    reply_id: str  # deterministic (reply_id_for the command message): a redelivery posts nothing
    asker: str
    note: str
    summary: Sequence[str]
    by_model: bool = False  # the assistant called them (handoff_to_human), not the asker


class Handoffs:
    def __init__(self, settings: SettingsStore) -> None:
        self.settings = settings

    def active(self, place: Place) -> bool:
        return PREFIX + place.key in self.settings.channel_settings(place.cid)

    def mark(self, place: Place, user_id: str, now: float) -> None:
        value = json.dumps({"by": user_id, "at": now})
        self.settings.set_channel_setting(place.cid, PREFIX + place.key, value)

    def clear(self, place: Place) -> None:
        self.settings.set_channel_setting(place.cid, PREFIX + place.key, None)


def plain_summary(conversation: Conversation) -> list[str]:
    """The last three questions, one line each: "Name asked: …"."""
    turns = conversation.turns[-SUMMARY_TURNS:]
    if not turns:
        return ["No questions to the assistant here yet."]
    return [f"{t.user_name or t.user_id} asked: {_short(t.question)}" for t in turns]


def summary_request(model: str, conversation: Conversation, note: str) -> ChatRequest | None:
    """The model's three-line summary for the operator; None when there is nothing to sum up."""
    lines = clip_to_tokens(turn_lines(conversation.turns), SUMMARY_INPUT_TOKENS)
    if conversation.summary:
        lines.insert(0, f"Earlier summary: {conversation.summary}")
    if not lines:
        return None
    if note:
        lines.append(f"The user's note when asking for a person: {note}")
    content = "The conversation so far, oldest first:\n" + "\n".join(lines)
    messages = (ChatMessage("system", SUMMARY_PROMPT), ChatMessage("user", content))
    return ChatRequest(model, messages, max_tokens=SUMMARY_TOKENS)


def summary_lines(text: str) -> list[str]:
    """At most three non-empty lines of the model's text, bullets and numbering removed.

    Split on "\\n" only: `splitlines` would also cut at U+2028 inside a sentence.
    """
    cleaned = (_BULLET.sub("", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return [_short(line) for line in cleaned if line][:SUMMARY_TURNS]


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUESTION_CHARS else flat[: QUESTION_CHARS - 1] + "…"


def uses_roles(operators: Iterable[str]) -> bool:
    return any(op.startswith(ROLE) for op in operators)


def operators_among(members: list[dict[str, Any]], operators: Sequence[str]) -> dict[str, str]:
    """Operator id → name: every configured user id, and the members holding an operator role."""
    found = {op: op for op in operators if not op.startswith(ROLE)}
    roles = {op.removeprefix(ROLE) for op in operators if op.startswith(ROLE)}
    for member in members:
        user = member.get("user") or {}
        uid = _member_id(member)
        if uid and (uid in found or roles & {member.get("channel_role"), user.get("role")}):
            found[uid] = user.get("name") or uid
    return found


def _member_id(member: dict[str, Any]) -> str:
    return str((member.get("user") or {}).get("id") or member.get("user_id") or "")


def is_operator(
    stream: StreamApi, place: Place, user: tuple[str, str], operators: Sequence[str]
) -> bool:
    """`user` is (id, Stream role); a channel role is looked up only when roles are configured."""
    user_id, role = user
    if user_id in operators or ROLE + role in operators:
        return True
    if not uses_roles(operators):
        return False
    return user_id in operators_among(stream.channel_members(place.channel), operators)


def call_operators(
    stream: StreamApi, bot_user_id: str, place: Place, ask: Ask, operators: Sequence[str]
) -> dict[str, str]:
    """Adds the operators who are not members, then posts one message mentioning them all;
    the operators called (id → name), none when nobody holds an operator role here."""
    members = stream.channel_members(place.channel)
    called = operators_among(members, operators)
    if not called:
        return called
    missing = sorted(set(called) - {_member_id(m) for m in members})
    if missing:
        stream.add_members(place.channel, missing)
    with suppress(MessageExists):  # Stream delivered the command twice: the first one posted
        stream.send_message(place.channel, handoff_message(place, ask, called), bot_user_id)
    return called


def handoff_message(place: Place, ask: Ask, called: dict[str, str]) -> dict[str, Any]:
    mentions = " ".join(f"@{name}" for name in called.values())
    why = f": “{ask.note}”" if ask.note else "."
    who = f"I could not help {ask.asker} and am handing over" if ask.by_model \
        else f"{ask.asker} asked for a person to take over"
    text = f"{mentions} {who}{why}\nSo far:\n" + "\n".join(ask.summary)
    message: dict[str, Any] = {
        "id": ask.reply_id, "text": text, "mentioned_users": list(called),
    }
    if place.parent_id:
        message["parent_id"] = place.parent_id
    return message
