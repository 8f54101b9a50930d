"""The app-level catalogue: app settings, users, commands and channel types.

`Catalog` is the part of the emulator's state a bot configures at start-up; `EmulatorState`
extends it with channels and messages and shares its lock.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from gptbot.emulator.errors import fail
from gptbot.emulator.model import DEFAULT_MAX_MESSAGE_LENGTH, now

Json = dict[str, Any]

MAX_CUSTOM_COMMANDS = 50
BUILTIN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "giphy": ("Post a random gif to the channel", "[text]", "fun_set"),
    "ban": ("Ban a user", "[@username] [text]", "moderation_set"),
    "unban": ("Unban a user", "[@username]", "moderation_set"),
    "mute": ("Mute a user", "[@username]", "moderation_set"),
    "unmute": ("Unmute a user", "[@username]", "moderation_set"),
}
# Which built-ins each default channel type enables; Stream's docs disagree, see the report.
DEFAULT_TYPE_COMMANDS: dict[str, list[str]] = {
    "messaging": ["giphy"],
    "team": ["giphy", "ban", "unban", "mute", "unmute"],
    "livestream": ["ban", "unban", "mute", "unmute"],
    "gaming": ["ban", "unban", "mute", "unmute"],
    "commerce": [],
}


def default_app(name: str) -> Json:
    return {
        "name": name,
        "custom_action_handler_url": "",
        "before_message_send_hook_url": "",
        "webhook_url": "",
        "webhook_events": [],
        "event_hooks": [],
        "enable_hook_payload_compression": False,
        "disable_auth_checks": False,
        "disable_permissions_checks": False,
        "permission_version": "v2",
        "suspended": False,
    }


def make_user(data: Json, old: Json | None) -> Json:
    """Upsert semantics: the new data replaces the old, only created_at survives."""
    stamp = now()
    created = old["created_at"] if old else stamp
    base = {"role": "user", "banned": False, "online": False, "last_active": None}
    fields = {**base, **copy.deepcopy(data), "created_at": created, "updated_at": stamp}
    return {"id": data["id"], **fields}


def builtin_commands() -> dict[str, Json]:
    return {
        name: _command(name, desc, args, cmd_set)
        for name, (desc, args, cmd_set) in BUILTIN_COMMANDS.items()
    }


def _command(name: str, description: str, args: str, cmd_set: str) -> Json:
    stamp = now()
    return {
        "name": name,
        "description": description,
        "args": args,
        "set": cmd_set,
        "created_at": stamp,
        "updated_at": stamp,
    }


def new_command(data: Json, existing: dict[str, Json]) -> Json:
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or not name or not isinstance(description, str):
        raise fail("CreateCommand", 400, 4, "name and description are required")
    if name in existing:
        raise fail("CreateCommand", 400, 4, f"command {name} already exists")
    if len(set(existing) - set(BUILTIN_COMMANDS)) >= MAX_CUSTOM_COMMANDS:
        raise fail("CreateCommand", 400, 4, "the app already has 50 custom commands")
    return _command(name, description, data.get("args", ""), data.get("set", ""))


def command_changes(settings: Json) -> Json:
    """Only description, args and set can change; a rename needs delete + create."""
    changes: Json = {k: settings[k] for k in ("description", "args", "set") if k in settings}
    return {**changes, "updated_at": now()}


def check_command_names(names: Any, commands: dict[str, Json]) -> None:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail("UpdateChannelType", 400, 4, "commands must be a list of command names")
    for name in names:
        if name != "all" and name not in commands:
            raise fail("UpdateChannelType", 400, 4, f"command {name} doesn't exist")


def default_channel_types() -> dict[str, Json]:
    return {name: channel_type(name, cmds) for name, cmds in DEFAULT_TYPE_COMMANDS.items()}


def channel_type(name: str, commands: list[str]) -> Json:
    stamp = now()
    flags = "typing_events read_events connect_events search reactions replies quotes mutes "
    flags += "uploads url_enrichment custom_events push_notifications"
    return {
        "name": name,
        **dict.fromkeys(flags.split(), True),
        "message_retention": "infinite",
        "max_message_length": DEFAULT_MAX_MESSAGE_LENGTH,
        "automod": "disabled",
        "automod_behavior": "flag",
        "commands": list(commands),
        "created_at": stamp,
        "updated_at": stamp,
    }


def new_channel_type(data: Json, types: dict[str, Json], commands: dict[str, Json]) -> Json:
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise fail("CreateChannelType", 400, 4, "name is required")
    if name in types:
        raise fail("CreateChannelType", 400, 4, f"channel type {name} already exists")
    names = data.get("commands") or []
    check_command_names(names, commands)
    extra = {k: v for k, v in data.items() if k not in ("name", "commands")}
    return {**channel_type(name, names), **copy.deepcopy(extra)}


class Catalog:
    """App settings, users, commands and channel types, behind one re-entrant lock."""

    def __init__(self, app_name: str) -> None:
        self._lock = threading.RLock()
        self.app: Json = default_app(app_name)
        self.users: dict[str, Json] = {}
        self.commands: dict[str, Json] = builtin_commands()
        self.channel_types: dict[str, Json] = default_channel_types()

    def upsert_users(self, users: dict[str, Json]) -> dict[str, Json]:
        with self._lock:
            for user_id, data in users.items():
                old = self.users.get(user_id)
                self.users[user_id] = make_user({**data, "id": user_id}, old)
            return copy.deepcopy({uid: self.users[uid] for uid in users})

    def find_users(self, ids: list[str]) -> list[Json]:
        with self._lock:
            return [copy.deepcopy(self.users[i]) for i in ids if i in self.users]

    def ensure_user(self, user: Json | str) -> Json:
        """The stored user; unknown ids are created so tests need no upsert first."""
        data = {"id": user} if isinstance(user, str) else user
        with self._lock:
            if data["id"] not in self.users:
                self.users[data["id"]] = make_user(data, None)
            return copy.deepcopy(self.users[data["id"]])

    def get_app(self) -> Json:
        with self._lock:
            return copy.deepcopy(self.app)

    def update_app(self, settings: Json) -> None:
        with self._lock:
            self.app.update(copy.deepcopy(settings))

    def create_command(self, data: Json) -> Json:
        with self._lock:
            command = new_command(data, self.commands)
            self.commands[command["name"]] = command
            return copy.deepcopy(command)

    def list_commands(self) -> list[Json]:
        with self._lock:
            return copy.deepcopy(list(self.commands.values()))

    def get_command(self, name: str, op: str = "GetCommand") -> Json:
        with self._lock:
            if name not in self.commands:
                raise fail(op, 404, 16, f"command {name} doesn't exist")
            return copy.deepcopy(self.commands[name])

    def update_command(self, name: str, settings: Json) -> Json:
        with self._lock:
            self.get_command(name, "UpdateCommand")
            self.commands[name].update(command_changes(settings))
            return copy.deepcopy(self.commands[name])

    def delete_command(self, name: str) -> None:
        with self._lock:
            self.get_command(name, "DeleteCommand")
            # Stream refuses to delete a command a channel type lists explicitly.
            using = [t for t, v in self.channel_types.items() if name in v["commands"]]
            if using:
                detail = f"command {name} is used by channel types {using}"
                raise fail("DeleteCommand", 400, 4, detail)
            del self.commands[name]

    def get_channel_type(self, name: str, op: str = "GetChannelType") -> Json:
        """As Stream returns it: `commands` expanded to command objects."""
        with self._lock:
            ctype = copy.deepcopy(self._channel_type(name, op))
            ctype["commands"] = copy.deepcopy(self._command_objects(ctype["commands"]))
            return ctype

    def update_channel_type(self, name: str, settings: Json) -> Json:
        """As Stream answers a PUT: `commands` stays a list of names."""
        with self._lock:
            ctype = self._channel_type(name, "UpdateChannelType")
            if "commands" in settings:
                check_command_names(settings["commands"], self.commands)
            ctype.update(copy.deepcopy(settings), updated_at=now())
            return copy.deepcopy(ctype)

    def create_channel_type(self, data: Json) -> Json:
        with self._lock:
            ctype = new_channel_type(data, self.channel_types, self.commands)
            self.channel_types[ctype["name"]] = ctype
            return copy.deepcopy(ctype)

    def custom_command(self, channel_type: str, name: str) -> Json | None:
        """The custom (non built-in) command `name` if it is enabled on the channel type."""
        with self._lock:
            enabled = self._channel_type(channel_type, "SendMessage")["commands"]
            command = self.commands.get(name)
            if command is None or command["name"] in BUILTIN_COMMANDS:
                return None
            return copy.deepcopy(command) if {"all", name} & set(enabled) else None

    def _channel_type(self, name: str, op: str) -> Json:
        if name not in self.channel_types:
            raise fail(op, 404, 16, f"channel type {name} doesn't exist")
        return self.channel_types[name]

    def _command_objects(self, names: list[str]) -> list[Json]:
        if "all" in names:
            return list(self.commands.values())
        return [self.commands[n] for n in names if n in self.commands]
