"""Stream's custom-command webhook: body decoding and payload parsing (pure functions).

Whatever a signed body holds, parsing ends in a `CommandCall` or a `BadRequest` (→ 4xx):
nothing Stream would never send (lone surrogates, absurd nesting or numbers, ids that are
not ids) gets as far as the store, the queue or Stream's REST paths.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any

from gptbot.core.errors import BadRequest, PayloadTooLarge

GZIP_MAGIC = b"\x1f\x8b"
MAX_DEPTH = 32  # Stream's payloads nest about 5 deep
MAX_NUMBER_CHARS = 40  # Stream's numbers are int64 or float64
MAX_ID = 255  # Stream's cap on user and message ids
MAX_CHANNEL_PART = 64  # Stream's cap on channel ids (and channel type names)
MAX_TEXT = 20_000  # the highest max_message_length a Stream channel type can have
MAX_NAME = 5_000  # a user's custom data is at most 5 KB
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # paired escapes decode to one character
NOT_IN_IDS = re.compile(r"[\x00-\x1f\x7f,%]")  # Stream's rule for ids, plus control characters
# The SDK puts channel type and id and a thread's parent id into REST paths unescaped.
NOT_IN_PATHS = re.compile(r"[\s\x00-\x1f\x7f,%/\\?#]")


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
    quoted_message_id: str | None = None  # the message this command quotes (a voice note?)

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
    payload = load_json_object(body)
    message = _object(payload, "message")
    user = _optional_object(payload, "user") or _optional_object(message, "user") or {}
    channel_type, channel_id = _split_cid(_string(message, "cid"))
    user_id = _id(user, "id", "user")
    return CommandCall(
        webhook_id=_webhook_id(webhook_id, body),
        command=_string(message, "command", limit=MAX_ID).strip().lower(),
        args=(_optional_string(message, "args", limit=MAX_TEXT) or "").strip(),
        message_id=_optional_id(message, "id") or "",
        channel_type=channel_type,
        channel_id=channel_id,
        parent_id=_optional_id(message, "parent_id", rule=NOT_IN_PATHS) or None,
        user_id=user_id,
        user_name=_user_name(user, user_id),
        user_role=_optional_string(user, "role", "user", MAX_ID) or "user",
        message=message,
        quoted_message_id=_optional_id(message, "quoted_message_id", rule=NOT_IN_PATHS) or None,
    )


def load_json_object(body: bytes) -> dict[str, Any]:
    """A JSON object as Stream sends one: valid Unicode, finite numbers, modest nesting."""
    try:
        payload = json.loads(
            body, parse_int=_int, parse_float=_float, parse_constant=_no_constant
        )
    except RecursionError:
        raise BadRequest(f"body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object")
    _check_tree(payload)
    return payload


def _int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_CHARS:
        raise BadRequest(f"body has a {len(digits)}-digit number; Stream's are int64 "
                         f"(at most {MAX_NUMBER_CHARS} characters here)")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"body has a number a float64 cannot hold: {text[:MAX_NUMBER_CHARS]}")
    return value


def _no_constant(name: str) -> float:
    raise BadRequest(f"body is not valid JSON: {name} is not a JSON number")


def _check_tree(payload: dict[str, Any]) -> None:
    """Every key and string valid Unicode; no deeper than MAX_DEPTH (walked without recursion)."""
    stack: list[tuple[dict[str, Any] | list[Any], tuple[str, ...]]] = [(payload, ())]
    while stack:
        container, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            raise BadRequest(f"body nests deeper than {MAX_DEPTH} levels")
        pairs = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in pairs:
            if isinstance(key, str):
                _check_unicode(key, path)
            if isinstance(item, str):
                _check_unicode(item, (*path, str(key)))
            elif isinstance(item, dict | list):
                stack.append((item, (*path, str(key))))


def _check_unicode(text: str, path: tuple[str, ...]) -> None:
    if LONE_SURROGATE.search(text):
        where = ascii(".".join(path) or "the body")[:120]
        raise BadRequest(f"a string in {where} has a lone UTF-16 surrogate (\\ud800-\\udfff)")


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


def _string(parent: dict[str, Any], key: str, where: str = "message", limit: int = MAX_TEXT) -> str:
    value = _optional_string(parent, key, where, limit)
    if not value:
        raise BadRequest(f"missing string field '{where}.{key}'")
    return value


def _optional_string(
    parent: dict[str, Any], key: str, where: str = "message", limit: int = MAX_TEXT
) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"field '{where}.{key}' must be a string")
    if value is not None and len(value) > limit:
        raise BadRequest(f"field '{where}.{key}' is {len(value)} characters; at most {limit}")
    return value


def _id(parent: dict[str, Any], key: str, where: str = "message") -> str:
    value = _optional_id(parent, key, where)
    if not value:
        raise BadRequest(f"missing string field '{where}.{key}'")
    return value


def _optional_id(
    parent: dict[str, Any], key: str, where: str = "message", rule: re.Pattern = NOT_IN_IDS
) -> str | None:
    value = _optional_string(parent, key, where, MAX_ID)
    if value:
        _check_id(value, f"{where}.{key}", rule)
    return value


def _check_id(value: str, name: str, rule: re.Pattern = NOT_IN_IDS) -> None:
    bad = rule.search(value)
    if bad:
        raise BadRequest(f"field '{name}' must not contain {bad.group()!r}")


def _split_cid(cid: str) -> tuple[str, str]:
    channel_type, _, channel_id = cid.partition(":")
    if not channel_type or not channel_id:
        raise BadRequest(f"field 'message.cid' must look like 'type:id', not {cid[:80]!r}")
    for part in (channel_type, channel_id):
        if len(part) > MAX_CHANNEL_PART:
            raise BadRequest(f"field 'message.cid': type and id are at most {MAX_CHANNEL_PART} "
                             "characters each")
        _check_id(part, "message.cid", NOT_IN_PATHS)
    return channel_type, channel_id


def _user_name(user: dict[str, Any], user_id: str) -> str:
    # Stream's docs show the name under "Custom" (a Go struct leaking through) as well.
    custom = user.get("Custom")
    custom = custom if isinstance(custom, dict) else {}
    for name in (user.get("name"), custom.get("name")):
        if isinstance(name, str) and name.strip():
            if len(name) > MAX_NAME:
                raise BadRequest(f"the user's name is {len(name)} characters; at most {MAX_NAME}")
            return name
    return user_id


def _webhook_id(given: str | None, body: bytes) -> str:
    """X-Webhook-Id, or without it: identical bodies are the same delivery."""
    if not given:
        return "body-" + hashlib.sha256(body).hexdigest()[:32]
    if len(given) > MAX_ID or not given.isprintable():
        raise BadRequest(f"X-Webhook-Id must be at most {MAX_ID} printable characters")
    return given
