"""The dev playground: a chat page in the browser on top of the Stream emulator's state.

`create_dev_app(state)` serves the page at `/`, its JSON API under `/playground/api/` and a
server-sent-events feed of the emulator's changes; every other path goes to the emulator's
REST API unchanged, so the bot and the page share one port and one `EmulatorState`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory

from gptbot.emulator.commands import send_user_message
from gptbot.emulator.errors import ApiError
from gptbot.emulator.event_hooks import deliver_event
from gptbot.emulator.playground_feed import change_stream, last_seq, visible
from gptbot.emulator.playground_voice import upload, voice_attachments
from gptbot.emulator.rest import create_emulator_app
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

STATIC_DIR = Path(__file__).with_name("static")
API = "/playground/api"
HEARTBEAT_S = 15.0
DEFAULT_TYPE = "messaging"
DEFAULT_CHANNEL = "general"
DEFAULT_USER = "you"
HISTORY_LIMIT = 300
# Stream's rules for ids: letters, digits and a few marks, at most 64 characters.
ID_RE = re.compile(r"^[\w@.-]{1,64}$")
__all__ = ["create_dev_app", "slug", "visible"]  # visible: the feed's, imported by tests


def create_dev_app(state: EmulatorState, heartbeat_s: float = HEARTBEAT_S) -> Flask:
    """The emulator's REST API plus the playground, on one WSGI app."""
    emulator = create_emulator_app(state)
    app = Flask("gptbot.playground", static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["PLAYGROUND_HEARTBEAT_S"] = heartbeat_s
    app.register_blueprint(create_blueprint(state))
    app.register_error_handler(ApiError, _api_error)
    # The emulator authenticates every request (api_key + server JWT) like Stream does;
    # the page has no credentials, so its paths are routed around that app, not through it.
    app.wsgi_app = _route(app.wsgi_app, emulator.wsgi_app)  # type: ignore[method-assign,assignment]
    state.ensure_channel(DEFAULT_TYPE, DEFAULT_CHANNEL, DEFAULT_USER)
    return app


def _route(playground: WsgiApp, emulator: WsgiApp) -> WsgiApp:
    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        mine = path == "/" or path.startswith("/playground")  # Stream has no such paths
        return (playground if mine else emulator)(environ, start_response)

    return dispatch


def create_blueprint(state: EmulatorState) -> Blueprint:
    bp = Blueprint(
        "playground", __name__, static_folder=STATIC_DIR, static_url_path="/playground/static"
    )
    bp.add_url_rule("/", "index", index)
    routes: list[tuple[str, str, Callable[..., Any]]] = [
        ("GET", "/channels", list_channels),
        ("POST", "/channels", create_channel),
        ("GET", "/channels/<ctype>/<channel_id>/messages", channel_messages),
        ("GET", "/commands/<ctype>", list_commands),
        ("GET", "/messages/<parent_id>/replies", thread_messages),
        ("POST", "/send", send),
        ("POST", "/upload", upload_recording),
        ("POST", "/stop", stop),
        ("GET", "/events", events),
    ]
    for method, rule, view in routes:
        bp.add_url_rule(API + rule, view.__name__, partial(view, state), methods=[method])
    return bp


def _api_error(error: ApiError) -> tuple[Response, int]:
    return jsonify({"error": error.message, "code": error.code}), error.status


def index() -> Response:
    response = send_from_directory(STATIC_DIR, "index.html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- JSON API -----------------------------------------------------------------------------


def list_channels(state: EmulatorState) -> Json:
    seq = last_seq(state)
    channels = sorted(list(state.channels.values()), key=lambda c: c["created_at"])
    return {"channels": [channel_summary(c) for c in channels], "seq": seq}


def create_channel(state: EmulatorState) -> tuple[Json, int]:
    body = _body()
    channel_id = slug(str(body.get("name") or ""))
    ctype = str(body.get("channel_type") or DEFAULT_TYPE)
    user = _user(body)
    if not channel_id:
        raise ApiError(400, 4, "a channel name needs at least one letter or digit")
    channel = state.ensure_channel(ctype, channel_id, user["id"])
    return {"channel": channel_summary(channel)}, 201


def channel_messages(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    """A channel's history as one viewer sees it, and the feed position to resume from."""
    viewer = _viewer()
    # Read the feed position first: anything newer is replayed by /events?since=seq.
    seq = last_seq(state)
    data = {"created_by_id": viewer}
    found = state.query_channel(ctype, channel_id, data, {"limit": HISTORY_LIMIT})
    mine = [m for m in private_messages(state, viewer) if m["cid"] == found["channel"]["cid"]]
    top = [m for m in mine if not m.get("parent_id") or m.get("show_in_channel")]
    messages = by_time([*found["messages"], *top])
    return {"channel": channel_summary(found["channel"]), "messages": messages, "seq": seq}


def list_commands(state: EmulatorState, ctype: str) -> Json:
    """The commands a composer may suggest: those enabled on the channel type."""
    commands = state.get_channel_type(ctype)["commands"]
    keys = ("name", "description", "args", "set")
    return {"commands": [{k: c.get(k, "") for k in keys} for c in commands]}


def thread_messages(state: EmulatorState, parent_id: str) -> Json:
    viewer = _viewer()
    seq = last_seq(state)
    if parent_id not in state.messages:  # the page's own answer; Stream's would be code 4
        raise ApiError(404, 16, f"message {parent_id} doesn't exist")
    parent = state.get_message(parent_id)
    replies = state.get_replies(parent_id, {"limit": HISTORY_LIMIT})
    mine = [m for m in private_messages(state, viewer) if m.get("parent_id") == parent_id]
    return {"parent": parent, "messages": by_time([*replies, *mine]), "seq": seq}


def send(state: EmulatorState) -> tuple[Json, int]:
    """Send as the page's user; a command runs the bot's webhook here (1 s budget)."""
    body = _body()
    text = str(body.get("text") or "")
    attachments = voice_attachments(body.get("attachments"))
    if not text.strip() and not attachments:
        raise ApiError(400, 4, "message text is empty")
    user = remember_user(state, _user(body))
    ctype, channel_id = _channel(body)
    parent_id = body.get("parent_id") or None
    extra = {"attachments": attachments} if attachments else None
    message = send_user_message(state, ctype, channel_id, user, text, parent_id, extra=extra)
    return {"message": message}, 201


def upload_recording(state: EmulatorState) -> tuple[Json, int]:
    """A voice note recorded in the page (multipart `file`, `channel_type`, `channel_id`)."""
    form = {"channel_type": request.form.get("channel_type"),
            "channel_id": request.form.get("channel_id")}
    user_id = _user_id(request.form.get("user") or DEFAULT_USER)
    return upload(state, _channel(form), user_id), 201


def stop(state: EmulatorState) -> tuple[Json, int]:
    """The Stop button: the `ai_indicator.stop` event Stream's AI UI sends to the channel."""
    body = _body()
    user = _user(body)
    ctype, channel_id = _channel(body)
    event: Json = {"type": "ai_indicator.stop", "user": {"id": user["id"]}}
    if body.get("message_id"):
        event["message_id"] = str(body["message_id"])
    sent = state.send_event(ctype, channel_id, event)
    deliver_event(state, sent)
    return {"event": sent}, 201


def events(state: EmulatorState) -> Response:
    """Server-sent events: the change feed as the viewer may see it, resumable by seq."""
    heartbeat = float(current_app.config["PLAYGROUND_HEARTBEAT_S"])
    stream = change_stream(state, _viewer(), _since(), heartbeat)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream, mimetype="text/event-stream", headers=headers)


# -- helpers ------------------------------------------------------------------------------


def channel_summary(channel: Json) -> Json:
    keys = ("cid", "type", "id", "name", "created_at")
    return {k: channel.get(k) for k in keys}


def private_messages(state: EmulatorState, viewer: str) -> list[Json]:
    """The viewer's ephemeral/error command results (Stream keeps them client-side)."""
    return [m for m in list(state.private.values()) if m["user"]["id"] == viewer]


def by_time(messages: list[Json]) -> list[Json]:
    return sorted(messages, key=lambda m: m["created_at"])


def slug(name: str) -> str:
    """A channel id from a typed name: "Release Notes!" → "release-notes"."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-")[:64]


def remember_user(state: EmulatorState, user: Json) -> Json:
    """Create the user, or rename it when the page's display name changed."""
    stored = state.ensure_user(user)
    if user.get("name") and stored.get("name") != user["name"]:
        state.upsert_users({user["id"]: {"name": user["name"]}})
    return {"id": user["id"], "name": user.get("name") or user["id"]}


def _body() -> Json:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, 4, "expected a JSON object")
    return body


def _user(body: Json) -> Json:
    raw = body.get("user") or DEFAULT_USER
    user = raw if isinstance(raw, dict) else {"id": str(raw)}
    user_id = _user_id(str(user.get("id") or ""))
    name = str(user.get("name") or "").strip()[:64]
    return {"id": user_id, "name": name} if name else {"id": user_id}


def _channel(body: Json) -> tuple[str, str]:
    ctype = str(body.get("channel_type") or DEFAULT_TYPE)
    channel_id = str(body.get("channel_id") or DEFAULT_CHANNEL)
    if not ID_RE.match(ctype) or not ID_RE.match(channel_id):
        raise ApiError(400, 4, "channel_type and channel_id must be Stream ids")
    return ctype, channel_id


def _viewer() -> str:
    return _user_id(request.args.get("user") or DEFAULT_USER)


def _user_id(user_id: str) -> str:
    if not ID_RE.match(user_id):
        raise ApiError(400, 4, "user id: 1-64 letters, digits, @ . _ or -")
    return user_id


def _since() -> int | None:
    # EventSource sends Last-Event-ID itself when it reconnects; the page passes ?since=.
    raw = request.headers.get("Last-Event-ID") or request.args.get("since")
    return int(raw) if raw and raw.isdigit() else None
