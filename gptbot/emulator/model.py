"""Pure helpers that shape Stream Chat channels, messages and events (no state here)."""

from __future__ import annotations

import copy
import html
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from gptbot.emulator.errors import fail

Json = dict[str, Any]

DEFAULT_MAX_MESSAGE_LENGTH = 5000
MAX_QUERY_LIMIT = 300
# Keys of a send request that are Stream's own; everything else is a custom field.
STANDARD_MESSAGE_KEYS = frozenset(
    [
        *("id", "text", "html", "type", "user", "user_id", "attachments", "mentioned_users"),
        *("parent_id", "show_in_channel", "quoted_message_id", "quoted_message", "silent"),
        *("pinned", "pin_expires", "pinned_at", "pinned_by", "mml", "i18n", "command", "args"),
        *("restricted_visibility", "cid", "created_at", "updated_at", "deleted_at", "shadowed"),
        *("reply_count", "deleted_reply_count", "latest_reactions", "own_reactions"),
        *("reaction_counts", "reaction_scores", "reaction_groups", "thread_participants"),
        *("message_text_updated_at", "poll", "poll_id"),
    ]
)
PASSTHROUGH_KEYS = ("quoted_message_id", "mml", "i18n", "command", "args", "restricted_visibility")
# The only Stream fields a partial update may set or unset; any other standard field (id,
# cid, user, type, parent_id, created_at, reply_count…) is refused, custom fields are free.
# Listed by Stream's engineer in GetStream/stream-chat-js PR #576 (review of
# PartialMessageUpdate): custom data, text, html (server side), attachments,
# mentioned_user_ids, quoted_message_id, silent and pin (pinned, pin_expires).
PARTIAL_UPDATE_KEYS = frozenset(
    {"text", "html", "attachments", "mentioned_users", "mentioned_user_ids"}
    | {"quoted_message_id", "silent", "pinned", "pin_expires"}
)
UNSET_DEFAULTS: Json = {"text": "", "attachments": [], "mentioned_users": [], "silent": False}
FULL_UPDATE_KEPT = ("id", "cid", "user", "created_at", "parent_id", "type", "reply_count")
SERVER_AUTH_HINT = "must be provided when using server side auth."


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def creator_id(data: Json) -> str:
    created_by = data.get("created_by") or {}
    creator = data.get("created_by_id") or (created_by.get("id") if created_by else None)
    if not creator:
        detail = f"either data.created_by or data.created_by_id {SERVER_AUTH_HINT}"
        raise fail("GetOrCreateChannel", 400, 4, detail)
    return str(creator)


def new_channel(ctype: str, channel_id: str, data: Json, creator: Json) -> Json:
    stamp = now()
    custom = {k: v for k, v in data.items() if k not in ("created_by", "created_by_id", "members")}
    return {
        **copy.deepcopy(custom),
        "id": channel_id,
        "type": ctype,
        "cid": f"{ctype}:{channel_id}",
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": creator,
        "frozen": False,
        "disabled": False,
        "member_count": 0,
    }


def member_ids(members: list[Any] | None) -> list[str]:
    """Members as Stream takes them (data.members, add_members): ids or {"user_id": …}."""
    return [str(m["user_id"] if isinstance(m, dict) else m) for m in members or []]


def new_member(user: Json) -> Json:
    stamp = now()
    return {
        "user_id": user["id"],
        "user": user,
        "created_at": stamp,
        "updated_at": stamp,
        "banned": False,
        "shadow_banned": False,
        "role": "member",
        "channel_role": "channel_member",
    }


def page(ids: list[str], opts: Json, default_limit: int) -> list[str]:
    """Stream's id-based pagination: the newest `limit` before id_lt, or the oldest after id_gt."""
    limit = min(int(opts.get("limit", default_limit)), MAX_QUERY_LIMIT)
    if opts.get("id_gt") in ids:
        return ids[ids.index(opts["id_gt"]) + 1 :][:limit]
    if opts.get("id_lt") in ids:
        ids = ids[: ids.index(opts["id_lt"])]
    return ids[-limit:] if limit > 0 else []


def author(data: Json, op: str = "SendMessage") -> Json:
    user = data.get("user") or ({"id": data["user_id"]} if data.get("user_id") else None)
    if not isinstance(user, dict) or not user.get("id"):
        kind = "event" if op == "SendEvent" else "message"
        raise fail(op, 400, 4, f"either {kind}.user or {kind}.user_id {SERVER_AUTH_HINT}")
    return user


def check_message_id(message_id: str) -> None:
    if not isinstance(message_id, str) or len(message_id) > 255 or re.search(r"[,%]", message_id):
        detail = "message.id must be at most 255 characters and contain no , or %"
        raise fail("SendMessage", 400, 4, detail)


def check_length(op: str, message: Json, max_length: int) -> None:
    text = message.get("text") or ""
    if len(text) > max_length:
        detail = f"message is too long: {len(text)} characters, the maximum is {max_length}"
        raise fail(op, 400, 20, detail)


def render_html(text: str) -> str:
    return f"<p>{html.escape(text)}</p>\n" if text else ""


def new_message(cid: str, data: Json, user: Json, users: dict[str, Json]) -> Json:
    if data.get("type") not in (None, "", "regular", "system"):
        raise fail("SendMessage", 400, 4, "message.type must be one of: regular, system")
    stamp, text = now(), str(data.get("text") or "")
    custom = {k: v for k, v in data.items() if k not in STANDARD_MESSAGE_KEYS}
    mentioned = [users.get(uid, {"id": uid}) for uid in data.get("mentioned_users") or []]
    message = {
        "id": data.get("id") or str(uuid.uuid4()),
        "text": text,
        "html": render_html(text),
        "type": data.get("type") or "regular",
        "user": user,
        "attachments": data.get("attachments") or [],
        "latest_reactions": [],
        "own_reactions": [],
        "reaction_counts": {},
        "reaction_scores": {},
        "reply_count": 0,
        "deleted_reply_count": 0,
        "cid": cid,
        "created_at": stamp,
        "updated_at": stamp,
        "shadowed": False,
        "mentioned_users": mentioned,
        "silent": bool(data.get("silent", False)),
        "pinned": False,
        "pinned_at": None,
        "pinned_by": None,
        "pin_expires": None,
    }
    message.update({k: data[k] for k in PASSTHROUGH_KEYS if k in data})
    if data.get("parent_id"):
        message["parent_id"] = data["parent_id"]
        message["show_in_channel"] = bool(data.get("show_in_channel", False))
    return copy.deepcopy({**message, **custom})


def apply_partial(message: Json, body: Json, op: str) -> Json:
    updates = body.get("set") or {}
    unset = body.get("unset") or []
    if not isinstance(updates, dict) or not isinstance(unset, list):
        raise fail(op, 400, 4, "set must be an object and unset a list")
    refused = refused_fields([*(k.split(".")[0] for k in updates), *unset])
    if refused:
        # Code 4 (input error) as for every refused field; Stream's wording is unpublished.
        raise fail(op, 400, 4, f"fields {refused} cannot be updated with a partial update")
    for path, value in updates.items():
        _set_path(message, path.split("."), copy.deepcopy(value))
    for key in unset:
        _unset(message, key)
    return _touch(message, "text" in updates or "text" in unset)


def refused_fields(keys: list[str]) -> list[str]:
    """The standard message fields among `keys` that a partial update may not touch."""
    standard = STANDARD_MESSAGE_KEYS | {"mentioned_user_ids"}
    return sorted({k for k in keys if k in standard and k not in PARTIAL_UPDATE_KEYS})


def apply_full(message: Json, data: Json) -> Json:
    kept = {k: message[k] for k in FULL_UPDATE_KEPT if k in message}
    fresh = new_message(message["cid"], {**data, "type": None}, message["user"], {})
    fresh.update(kept)
    return _touch(fresh, fresh["text"] != message["text"])


def _set_path(target: Json, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value


def _unset(message: Json, key: str) -> None:
    if key in UNSET_DEFAULTS:
        message[key] = copy.deepcopy(UNSET_DEFAULTS[key])
    else:
        message.pop(key, None)


def _touch(message: Json, text_changed: bool) -> Json:
    stamp = now()
    message["updated_at"] = stamp
    if text_changed:
        message["html"] = render_html(str(message.get("text") or ""))
        message["message_text_updated_at"] = stamp
    return message


def new_event(channel: Json, data: Json, user: Json) -> Json:
    if not data.get("type"):
        raise fail("SendEvent", 400, 4, "event.type is required")
    extra = {k: v for k, v in data.items() if k not in ("user", "user_id")}
    return {
        **copy.deepcopy(extra),
        "cid": channel["cid"],
        "channel_id": channel["id"],
        "channel_type": channel["type"],
        "user": user,
        "created_at": now(),
    }
