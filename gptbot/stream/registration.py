"""Make a Stream app ready for /gpt. Idempotent: safe to run at every start-up."""

from __future__ import annotations

import logging
from typing import Any

from stream_chat.base.exceptions import StreamAPIException

from gptbot.config import Config
from gptbot.core.errors import SetupError
from gptbot.stream.api import StreamApi

log = logging.getLogger(__name__)

DESCRIPTION = "Ask the AI assistant a question"
ARGS = "[question]"
STOP_EVENT = "ai_indicator.stop"
# What the app event hook sends us: the Stop button and the reactions that are feedback.
HOOK_EVENTS = (STOP_EVENT, "reaction.new", "reaction.deleted")


def register(stream: StreamApi, config: Config, public_url: str) -> list[str]:
    """Bring the app to the wanted state; returns a line per change made."""
    if not public_url.startswith(("https://", "http://")):
        raise SetupError(f"public URL must start with https://, not {public_url!r}")
    changes = [ensure_bot_user(stream, config)]
    changes += [ensure_command(stream, config.command)]
    changes += [ensure_enabled(stream, config.command, t) for t in config.channel_types]
    app = stream.app_settings()  # read once for both
    changes += [ensure_handler_url(stream, app, config.handler_url(public_url))]
    changes += [ensure_stop_hook(stream, app, config.events_url(public_url))]
    return [change for change in changes if change]


def ensure_bot_user(stream: StreamApi, config: Config) -> str:
    # Admin: the bot watches the channels it answers in (its WebSocket hears the Stop button),
    # which needs ReadChannel wherever it is not a member; Stream's own AI sample does the same.
    user = {"id": config.bot_user_id, "name": config.bot_name, "role": "admin"}
    stream.upsert_user(user)
    return ""  # an upsert is not worth reporting: it runs every time


def ensure_command(stream: StreamApi, name: str) -> str:
    existing = {c["name"]: c for c in stream.commands()}
    if name not in existing:
        return _create_command(stream, name)
    command = existing[name]
    if command.get("description") != DESCRIPTION or command.get("args") != ARGS:
        stream.update_command(name, description=DESCRIPTION, args=ARGS)
        return f"updated command /{name}"
    return ""


def _create_command(stream: StreamApi, name: str) -> str:
    try:
        stream.create_command({"name": name, "description": DESCRIPTION, "args": ARGS})
    except StreamAPIException as exc:
        # Several processes register at once on a first deploy: another one won the race.
        if "exist" in str(exc).lower():
            return ""
        raise
    return f"created command /{name}"


def ensure_enabled(stream: StreamApi, command: str, channel_type: str) -> str:
    # update_channel_type replaces the list, so read it first and keep every command on it.
    current = stream.channel_type(channel_type).get("commands") or []
    names = [c["name"] if isinstance(c, dict) else str(c) for c in current]
    if command in names or "all" in names:
        return ""
    stream.update_channel_type(channel_type, commands=[*names, command])
    return f"enabled /{command} on channel type {channel_type!r}"


def ensure_handler_url(stream: StreamApi, app: dict[str, Any], url: str) -> str:
    previous = app.get("custom_action_handler_url") or ""
    if previous == url:
        return ""
    if previous:
        log.warning("replacing custom_action_handler_url %s (one URL serves every custom "
                    "command of the app)", previous)
    stream.update_app_settings(custom_action_handler_url=url)
    return f"custom commands now call {url}"


def ensure_stop_hook(stream: StreamApi, app: dict[str, Any], url: str) -> str:
    """Ask Stream to send us reactions (👍/👎 feedback on the replies) and `ai_indicator.stop`
    (the UI's Stop button).

    Reactions are in Stream's webhook catalogue. The Stop is a client event, outside it: a
    hook gets such events only with `should_send_custom_events` (unconfirmed on a live app;
    the bot's WebSocket watcher is the path Stream's own agents use). Stream deletes every
    event hook missing from an update, so the existing ones are kept. Optional: a refusal is
    logged, not fatal.
    """
    hooks = app.get("event_hooks") or []
    mine = [hook for hook in hooks if hook.get("webhook_url") == url]
    if mine and all(hook.get("should_send_custom_events") is True
                    and set(HOOK_EVENTS) <= set(hook.get("event_types") or ()) for hook in mine):
        return ""
    ours = {**(mine[0] if mine else {}), "enabled": True, "hook_type": "webhook",
            "webhook_url": url, "event_types": list(HOOK_EVENTS),
            "should_send_custom_events": True}
    others = [hook for hook in hooks if hook.get("webhook_url") != url]
    try:
        stream.update_app_settings(event_hooks=[*others, ours])
    except StreamAPIException as exc:
        log.warning("could not add the Stop event hook (%s); /gpt stop still works", exc)
        return ""
    return f"Stop button and reaction events now reach {url}"
