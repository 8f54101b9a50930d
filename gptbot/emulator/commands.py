"""Plays Stream's part when a user types `/command args`: call the app's custom-command
handler inside the send, apply its answer, then commit the message (research §2-§3).
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from gptbot.emulator.errors import fail
from gptbot.emulator.model import STANDARD_MESSAGE_KEYS, now, render_html
from gptbot.emulator.state import EmulatorState
from gptbot.emulator.webhooks import (
    CUSTOM_COMMAND_POLICY,
    Delivery,
    HookResult,
    HttpPoster,
    RetryPolicy,
    deliver,
    signed_headers,
)

Json = dict[str, Any]
HOOK_TIMEOUT_S = CUSTOM_COMMAND_POLICY.timeout_s
# What a handler may rewrite (the before-message-send list); custom fields are allowed too.
REWRITABLE_KEYS = frozenset(
    {"text", "i18n", "show_in_channel", "silent", "type", "attachments", "mml"}
)
PRIVATE_TYPES = frozenset({"ephemeral", "error"})
COMMAND_RE = re.compile(r"/(\S+)\s*(.*)", re.DOTALL)
# User messages are not the bot's writes: keep them out of state.persisted_writes.
USER_SEND_OP = "SendUserMessage"


def send_user_message(
    state: EmulatorState,
    channel_type: str,
    channel_id: str,
    user: Json | str,
    text: str,
    parent_id: str | None = None,
    *,
    http: HttpPoster = requests,
    message_id: str | None = None,
    extra: Json | None = None,
    compress: bool | None = None,
    deliveries: int = 1,
    timeout: float = HOOK_TIMEOUT_S,
) -> Json:
    """Send `text` as `user`, the way a chat client would, and return the resulting message.

    A cancelled command (handler answered `{"message": null}`) stores nothing and returns
    the message with type "deleted". `compress=None` follows the app's
    enable_hook_payload_compression; `deliveries=2` re-sends the same webhook (attempt 2)
    even after a good answer. A failed attempt is retried as webhooks.py says, within
    `timeout` (Stream's 1 s); the pause between attempts is `state.webhook_backoff_s`.
    """
    author = state.ensure_user(user)
    state.ensure_channel(channel_type, channel_id, author["id"])
    data = _message_data(author["id"], text, parent_id, message_id, extra)
    parsed = parse_command(text)
    command = parsed and state.custom_command(channel_type, parsed[0])
    if not parsed or not command:
        message = state.compose_message(channel_type, channel_id, data)
        return state.store_message(message, op=USER_SEND_OP)
    data.update(command=parsed[0], args=parsed[1])
    preview = state.compose_message(channel_type, channel_id, data)
    options = _Options(http, _compress(state, compress), max(deliveries, 1), timeout)
    result = _call_handler(state, preview, author, options)
    return _commit(state, preview, result, author["id"])


def parse_command(text: str) -> tuple[str, str] | None:
    """`/name args…` → (name, args); Stream passes args as the text after the name."""
    match = COMMAND_RE.match(text)
    return (match[1], match[2].strip()) if match else None


def _message_data(
    user_id: str, text: str, parent_id: str | None, message_id: str | None, extra: Json | None
) -> Json:
    # Chat clients choose ids as `<userId>-<uuid>`; the handler sees that id.
    data = {**(extra or {}), "id": message_id or f"{user_id}-{uuid.uuid4()}", "text": text}
    data["user"] = {"id": user_id}
    if parent_id:
        data["parent_id"] = parent_id
    return data


@dataclass(frozen=True)
class _Options:
    http: HttpPoster
    compress: bool
    deliveries: int
    timeout: float


def _compress(state: EmulatorState, compress: bool | None) -> bool:
    if compress is not None:
        return compress
    return bool(state.get_app().get("enable_hook_payload_compression"))


def _call_handler(state: EmulatorState, preview: Json, author: Json, opts: _Options) -> HookResult:
    url = _handler_url(state, preview["command"])
    raw = json.dumps({"message": preview, "user": author}).encode()
    webhook_id = str(uuid.uuid4())

    def headers(attempt: int) -> dict[str, str]:
        return signed_headers(state.api_key, state.api_secret, raw, webhook_id, attempt,
                              opts.compress)

    def record(attempt: int, result: HookResult, elapsed_ms: float) -> None:
        state.record_hook(_call_record(preview, url, webhook_id, attempt, result, elapsed_ms))

    body = gzip.compress(raw) if opts.compress else raw
    policy = RetryPolicy(timeout_s=opts.timeout, budget_s=opts.timeout)
    return deliver(Delivery(url, body, headers, policy, opts.http,
                            state.webhook_backoff_s, opts.deliveries, record))


def _handler_url(state: EmulatorState, command: str) -> str:
    template = str(state.get_app().get("custom_action_handler_url") or "")
    if not template:
        raise fail("SendMessage", 400, 44, "custom_action_handler_url is not configured")
    return template.replace("{type}", command)


def _call_record(
    preview: Json, url: str, webhook_id: str, attempt: int, result: HookResult, ms: float
) -> Json:
    return {
        "command": preview["command"],
        "cid": preview["cid"],
        "message_id": preview["id"],
        "url": url,
        "webhook_id": webhook_id,
        "attempt": attempt,
        "outcome": result.outcome,
        "status": result.status,
        "elapsed_ms": round(ms, 2),
    }


def _commit(state: EmulatorState, preview: Json, result: HookResult, user_id: str) -> Json:
    """Timeouts and non-2xx answers save the message as typed ("saved as usual")."""
    if result.outcome == "cancelled":
        return {**preview, "type": "deleted", "deleted_at": now()}
    message = merge_reply(preview, result.reply) if result.reply is not None else preview
    if message["type"] in PRIVATE_TYPES:
        return state.store_private(message, user_id)
    return state.store_message(message, op=USER_SEND_OP)


def merge_reply(preview: Json, reply: Json) -> Json:
    """Apply a handler's `message`: rewritable and custom fields win, Stream's own are kept."""
    merged = copy.deepcopy(preview)
    for key, value in reply.items():
        if key in REWRITABLE_KEYS or key not in STANDARD_MESSAGE_KEYS:
            merged[key] = copy.deepcopy(value)
    merged["type"] = _message_type(reply.get("type"), preview)
    merged["html"] = render_html(str(merged.get("text") or ""))
    return merged


def _message_type(requested: Any, preview: Json) -> str:
    if requested in PRIVATE_TYPES or requested == "system":
        return str(requested)
    return "reply" if preview.get("parent_id") else "regular"
