"""The app-level REST operations: users, custom commands, channel types and app settings.

Each view answers the JSON body only; rest.py picks the status (Stream's 200 or 201).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from gptbot.emulator.errors import ApiError, View, request_body
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]


def upsert_users(state: EmulatorState) -> Json:
    return {"users": state.upsert_users(object_field(request_body(), "users"))}


def query_users(state: EmulatorState) -> Json:
    """Only the id filters the bot uses: {"id": x} and {"id": {"$in": [...]}}."""
    payload = json.loads(request.args.get("payload") or "{}")
    wanted = payload.get("filter_conditions", {}).get("id")
    ids = wanted.get("$in", []) if isinstance(wanted, dict) else [wanted]
    return {"users": state.find_users([str(i) for i in ids])}


def list_commands(state: EmulatorState) -> Json:
    return {"commands": state.list_commands()}


def create_command(state: EmulatorState) -> Json:
    return {"command": state.create_command(request_body())}


def get_command(state: EmulatorState, name: str) -> Json:
    return state.get_command(name)


def update_command(state: EmulatorState, name: str) -> Json:
    return {"command": state.update_command(name, request_body())}


def delete_command(state: EmulatorState, name: str) -> Json:
    state.delete_command(name)
    return {"name": name}


def list_channel_types(state: EmulatorState) -> Json:
    names = list(state.channel_types)
    return {"channel_types": {name: state.get_channel_type(name) for name in names}}


def create_channel_type(state: EmulatorState) -> Json:
    return state.create_channel_type(request_body())


def get_channel_type(state: EmulatorState, ctype: str) -> Json:
    return state.get_channel_type(ctype)


def update_channel_type(state: EmulatorState, ctype: str) -> Json:
    return state.update_channel_type(ctype, request_body())


def get_app(state: EmulatorState) -> Json:
    return {"app": state.get_app()}


def update_app(state: EmulatorState) -> Json:
    state.update_app(request_body())
    return {}


def object_field(body: Json, key: str) -> Json:
    value = body.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, 4, f"{key} must be an object")
    return value


APP_ROUTES: list[tuple[str, str, str, View]] = [
    ("POST", "/users", "UpdateUsers", upsert_users),
    ("GET", "/users", "QueryUsers", query_users),
    ("GET", "/commands", "ListCommands", list_commands),
    ("POST", "/commands", "CreateCommand", create_command),
    ("GET", "/commands/<name>", "GetCommand", get_command),
    ("PUT", "/commands/<name>", "UpdateCommand", update_command),
    ("DELETE", "/commands/<name>", "DeleteCommand", delete_command),
    ("GET", "/channeltypes", "ListChannelTypes", list_channel_types),
    ("POST", "/channeltypes", "CreateChannelType", create_channel_type),
    ("GET", "/channeltypes/<ctype>", "GetChannelType", get_channel_type),
    ("PUT", "/channeltypes/<ctype>", "UpdateChannelType", update_channel_type),
    ("GET", "/app", "GetApp", get_app),
    ("PATCH", "/app", "UpdateApp", update_app),
]
