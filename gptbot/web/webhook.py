"""Stream's custom-command webhook: body decoding and payload parsing (pure functions)."""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from gptbot.core.errors import BadRequest, PayloadTooLarge

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class CommandCall:
    """One `/command args` typed by a user, as Stream delivered it."""

    webhook_id: str
    command: str
    args: str
    message_id: str
    channel_type: str
    channel_id: str
    parent_id: str | None
    user_id: str
    user_name: str
    user_role: str
    message: dict[str, Any]

    @property
    def cid(self) -> str:
        return f"{self.channel_type}:{self.channel_id}"

    @property
    def dedupe_key(self) -> str:
        """Same command message → same key, whichever delivery carried it."""
        return f"msg:{self.message_id}" if self.message_id else f"hook:{self.webhook_id}"


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo gzip (by header or by magic bytes: proxies drop headers) within a size cap."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limit}")
    if (content_encoding or "").lower() != "gzip" and not raw.startswith(GZIP_MAGIC):
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise BadRequest("body is not valid gzip") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed body exceeds {limit} bytes")
    return body


def parse_command(body: bytes, webhook_id: str | None) -> CommandCall:
    payload = _json_object(body)
    message = _object(payload, "message")
    user = _optional_object(payload, "user") or _optional_object(message, "user") or {}
    channel_type, channel_id = _split_cid(_string(message, "cid"))
    message_id = _optional_string(message, "id") or ""
    return CommandCall(
        webhook_id=webhook_id or _fallback_webhook_id(body),
        command=_string(message, "command").strip().lower(),
        args=(_optional_string(message, "args") or "").strip(),
        message_id=message_id,
        channel_type=channel_type,
        channel_id=channel_id,
        parent_id=_optional_string(message, "parent_id") or None,
        user_id=_string(user, "id", where="user"),
        user_name=_user_name(user),
        user_role=_optional_string(user, "role") or "user",
        message=message,
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object")
    return payload


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = _optional_object(parent, key)
    if value is None:
        raise BadRequest(f"missing object field '{key}'")
    return value


def _optional_object(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"field '{key}' must be an object")
    return value


def _string(parent: dict[str, Any], key: str, where: str = "message") -> str:
    value = _optional_string(parent, key, where)
    if not value:
        raise BadRequest(f"missing string field '{where}.{key}'")
    return value


def _optional_string(parent: dict[str, Any], key: str, where: str = "message") -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"field '{where}.{key}' must be a string")
    return value


def _split_cid(cid: str) -> tuple[str, str]:
    channel_type, _, channel_id = cid.partition(":")
    if not channel_type or not channel_id:
        raise BadRequest(f"field 'message.cid' must look like 'type:id', not {cid!r}")
    return channel_type, channel_id


def _user_name(user: dict[str, Any]) -> str:
    # Stream's docs show the name under "Custom" (a Go struct leaking through) as well.
    custom = user.get("Custom")
    custom = custom if isinstance(custom, dict) else {}
    name = user.get("name") or custom.get("name") or user.get("id")
    return str(name)


def _fallback_webhook_id(body: bytes) -> str:
    """Without X-Webhook-Id, identical bodies are the same delivery."""
    return "body-" + hashlib.sha256(body).hexdigest()[:32]
