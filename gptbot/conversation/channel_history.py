"""Reading a channel's (or thread's) recent messages from Stream, as transcript lines.

Read through the SDK (`channel.query`, `get_replies`), not search: search is limited to
300 calls a minute and indexes with a delay (research/stream-chat.md §5).
"""

from __future__ import annotations

from typing import Any

from gptbot.stream.api import StreamApi

SHOWN_TYPES = ("regular", "reply")  # not system, ephemeral, error or deleted messages
MAX_LIMIT = 300  # the most messages Stream returns for one query


def recent_messages(
    stream: StreamApi, cid: tuple[str, str], parent_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """The last `limit` messages, oldest first; in a thread, its opening message first."""
    limit = min(limit, MAX_LIMIT)
    if not parent_id:
        return stream.channel_messages(cid, limit)
    replies = stream.thread_replies(cid, parent_id, limit)
    replies = sorted(replies, key=lambda m: str(m.get("created_at", "")))
    return [stream.get_message(parent_id), *replies]


def transcript(messages: list[dict[str, Any]], bot_user_id: str, include_bot: bool) -> list[str]:
    """'Name: text' lines. Without include_bot, the bot's answers and the /commands that
    asked for them are left out: they are in the conversation memory already."""
    lines = (_line(m, bot_user_id, include_bot) for m in messages)
    return [line for line in lines if line]


def _line(message: dict[str, Any], bot_user_id: str, include_bot: bool) -> str:
    if message.get("type", "regular") not in SHOWN_TYPES or message.get("generating"):
        return ""
    user = message.get("user") or {}
    is_bot = user.get("id") == bot_user_id or bool(message.get("ai_generated"))
    if (is_bot or message.get("command")) and not include_bot:
        return ""
    text = str(message.get("text") or "").strip()
    if not text:
        return ""
    name = "Assistant" if is_bot else str(user.get("name") or user.get("id") or "Someone")
    return f"{name}: {text}"
