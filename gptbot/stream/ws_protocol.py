"""Stream Chat's client WebSocket protocol, the parts a bot watching channels needs (pure).

As Stream's JS SDK speaks it (stream-chat-js `src/connection.ts`, `src/client.ts`):

- connect: `GET <ws base>/connect?json={"user_id","user_details","client_request_id"}
  &api_key=…&authorization=<user JWT>&stream-auth-type=jwt`, the ws base being the REST
  base URL with `http` → `ws` (so `https` → `wss`);
- the server's first message is `health.check` (or `connection.ok`) carrying the
  `connection_id`, or an event with an `error` object (bad key or token): then Stream closes
  with 1000 and retrying cannot help;
- the client sends `[{"type": "health.check", "client_id": …}]` 25 s after each health check
  it receives, and reconnects when nothing at all arrived for 35 s;
- reconnects wait `retry_interval(failures)`: random, growing by 2 s a failure up to 25 s.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import jwt

DEFAULT_BASE_URL = "https://chat.stream-io-api.com"
PING_INTERVAL_S = 25.0
LIVENESS_S = PING_INTERVAL_S + 10.0
HEALTH_CHECK = "health.check"
CONNECTED_TYPES = frozenset({HEALTH_CHECK, "connection.ok"})
STOP_EVENT = "ai_indicator.stop"
CLIENT_NAME = "gptbot-watcher"

Json = dict[str, Any]


class CredentialsRejected(Exception):
    """Stream refused the connection for good (wrong api_key, token or secret)."""


@dataclass(frozen=True)
class StopSignal:
    """A Stop (`ai_indicator.stop`) seen on a watched channel.

    Stream's React UI sends only the type, so `parent_id` and `message_id` are set only when
    the sending client added them; `user_id` is who pressed Stop.
    """

    cid: str
    parent_id: str | None = None
    message_id: str | None = None
    user_id: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def user_token(secret: str, user_id: str) -> str:
    """The user JWT Stream expects: HS256 over {"user_id"}, as the SDK's create_token."""
    return jwt.encode({"user_id": user_id}, secret, algorithm="HS256")


def ws_base(base_url: str | None) -> str:
    """Stream's rule: the REST base with http → ws (https → wss)."""
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    if base.startswith(("http://", "https://")):
        return "ws" + base[len("http") :]
    raise ValueError(f"the Stream base URL must start with http:// or https://: {base!r}")


def connect_url(base_url: str | None, api_key: str, token: str, user_id: str) -> str:
    """The `/connect` URL. It carries the token: never log it."""
    payload = {"user_id": user_id, "user_details": {"id": user_id},
               "client_request_id": str(uuid.uuid4())}
    params = {"json": json.dumps(payload, separators=(",", ":")), "api_key": api_key,
              "authorization": token, "stream-auth-type": "jwt", "X-Stream-Client": CLIENT_NAME}
    return f"{ws_base(base_url)}/connect?{urlencode(params)}"


def client_id(user_id: str) -> str:
    return f"{user_id}--{uuid.uuid4()}"


def health_check(client: str) -> str:
    """What the JS SDK sends as its ping: a one-element JSON array."""
    return json.dumps([{"type": HEALTH_CHECK, "client_id": client}])


def parse(text: str | bytes) -> Json | None:
    """A server message as a dict; anything else (bad JSON, a list) is None."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def connection_id(first: Json) -> str:
    """The connection id from the server's first message, or CredentialsRejected."""
    error = first.get("error")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message", "")
        raise CredentialsRejected(f"Stream refused the WebSocket (code {code}): {message}")
    conn = first.get("connection_id")
    if first.get("type") not in CONNECTED_TYPES or not isinstance(conn, str) or not conn:
        raise ConnectionError(f"unexpected first WebSocket message {first.get('type')!r}")
    return conn


def stop_signal(event: Json) -> StopSignal | None:
    """The event as a StopSignal when it is an `ai_indicator.stop` for a channel."""
    if event.get("type") != STOP_EVENT:
        return None
    cid = _text(event, "cid")
    if not cid and _text(event, "channel_type") and _text(event, "channel_id"):
        cid = f"{event['channel_type']}:{event['channel_id']}"
    if ":" not in cid:
        return None
    user = event.get("user")
    user_id = _text(user, "id") if isinstance(user, dict) else ""
    return StopSignal(cid, _text(event, "parent_id") or None,
                      _text(event, "message_id") or None, user_id or None, event)


def channel_path(cid: str, action: str) -> str:
    """`channels/{type}/{id}/{action}` for a cid "type:id"."""
    ctype, _, channel_id = cid.partition(":")
    if not ctype or not channel_id:
        raise ValueError(f"not a channel cid: {cid!r}")
    return f"channels/{quote(ctype, safe='')}/{quote(channel_id, safe='')}/{action}"


def retry_interval(failures: int, rand: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds before reconnect attempt `failures` (1, 2, …), spread like the JS SDK's."""
    high = min(0.5 + failures * 2.0, 25.0)
    low = min(max(0.25, (failures - 1) * 2.0), 25.0)
    return rand(low, high)


def _text(data: Json, key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""
