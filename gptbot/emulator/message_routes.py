"""The message REST operations: send, read, update (full, partial, ephemeral) and replies.

Each view answers the JSON body only; rest.py picks the status (Stream's 200 or 201).
"""

from __future__ import annotations

from typing import Any

from flask import request

from gptbot.emulator.app_routes import object_field
from gptbot.emulator.errors import View, request_body
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]


def send_message(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    message = object_field(request_body(), "message")
    return {"message": state.send_message(ctype, channel_id, message)}


def get_many_messages(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    cid = f"{ctype}:{channel_id}"
    found = [state.get_message(i) for i in ids if i in state.messages]
    return {"messages": [m for m in found if m["cid"] == cid]}


def get_message(state: EmulatorState, message_id: str) -> Json:
    """GetMessageResponse.message is a MessageWithChannelResponse: the message plus its
    `channel` (spec-v1 GetMessage, GetStream/protocol openapi/chat-openapi.json e51a64d3)."""
    message = state.get_message(message_id)
    return {"message": {**message, "channel": state.channel_view(message["cid"])}}


def update_message_partial(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.update_partial(message_id, request_body())}


def ephemeral_message_update(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.update_partial(message_id, request_body(), persist=False)}


def update_message(state: EmulatorState, message_id: str) -> Json:
    message = object_field(request_body(), "message")
    return {"message": state.update_full(message_id, message)}


def get_replies(state: EmulatorState, parent_id: str) -> Json:
    return {"messages": state.get_replies(parent_id, request.args.to_dict())}


CHANNEL = "/channels/<ctype>/<channel_id>"
MESSAGE = "/messages/<message_id>"
MESSAGE_ROUTES: list[tuple[str, str, str, View]] = [
    ("POST", f"{CHANNEL}/message", "SendMessage", send_message),
    ("GET", f"{CHANNEL}/messages", "GetManyMessages", get_many_messages),
    ("GET", MESSAGE, "GetMessage", get_message),
    ("PUT", MESSAGE, "UpdateMessagePartial", update_message_partial),
    ("POST", MESSAGE, "UpdateMessage", update_message),
    ("PATCH", f"{MESSAGE}/ephemeral", "EphemeralMessageUpdate", ephemeral_message_update),
    ("GET", "/messages/<parent_id>/replies", "GetReplies", get_replies),
]
