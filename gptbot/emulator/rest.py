"""Stream Chat's server-side REST API, as the `stream-chat` SDK calls it, served by Flask.

Each route's endpoint name is Stream's operation name (SendMessage, UpdateMessagePartial…),
which is also the key of `state.requests`, so tests can count calls per operation.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gptbot.emulator import auth
from gptbot.emulator.connections import Connection
from gptbot.emulator.errors import ApiError, fail, request_body
from gptbot.emulator.event_hooks import deliver_event
from gptbot.emulator.files import FILE_ROUTES, with_cdn
from gptbot.emulator.members import query_members, update_channel
from gptbot.emulator.rate_limits import Verdict
from gptbot.emulator.state import EmulatorState
from gptbot.emulator.websocket import with_websocket

Json = dict[str, Any]
View = Callable[..., Json | tuple[Json, int]]
log = logging.getLogger(__name__)

# What a user token may do here (the JS SDK's watch, stop-watching and sendEvent); every
# other operation the emulator serves is the server SDK's and wants a server token.
USER_OPS = frozenset({"GetOrCreateChannel", "StopWatchingChannel", "SendEvent"})
CONNECTION_NOT_FOUND = 46


def create_emulator_app(state: EmulatorState) -> Flask:
    app = Flask("gptbot.emulator")
    # Keep insertion order so responses read like Stream's (id, text, type, user…).
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["emulator_state"] = state
    for method, rule, op, view in [*ROUTES, *FILE_ROUTES]:
        app.add_url_rule(rule, op, partial(_respond, state, view), methods=[method])
    app.before_request(partial(_before_request, state))
    app.after_request(_rate_limit_headers)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    # The client WebSocket (/connect) shares the host and port, as on Stream.
    app.wsgi_app = with_websocket(state, app.wsgi_app)  # type: ignore[method-assign,assignment]
    # Uploaded files are fetched from the same host with no credentials, as from a CDN.
    app.wsgi_app = with_cdn(state.files, app.wsgi_app)  # type: ignore[method-assign,assignment]
    return app


# -- plumbing -----------------------------------------------------------------------------


def _before_request(state: EmulatorState) -> None:
    g.started = time.perf_counter()
    if state.latency_s > 0:
        time.sleep(state.latency_s)
    _authenticate(state)
    if request.endpoint is None:
        return
    state.count_request(request.endpoint)
    _enforce_rate_limit(state, request.endpoint)
    fault = state.faults.take(request.method, request.path)
    if fault is not None:
        raise fault.error()


def _enforce_rate_limit(state: EmulatorState, op: str) -> None:
    # Before faults: Stream's limiter sits in front of the endpoint, so a refused request
    # never reaches it, and every request that does reach it used the budget.
    g.rate_limit = state.rate_limiter.check(op)
    if not g.rate_limit.allowed:
        raise g.rate_limit.error()


def _authenticate(state: EmulatorState) -> None:
    """Stream's auth: the api_key param plus a JWT (server, or a user's), no Bearer."""
    auth.check_api_key(request.args.get("api_key"), state.api_key)
    claims = auth.decode(request.headers.get("Authorization", ""), state.api_secret,
                         state.api_key)
    g.user_id = auth.token_user(claims)
    if g.user_id is not None and request.endpoint not in USER_OPS:
        detail = f"the emulator serves {request.endpoint} to server-side tokens only"
        raise ApiError(401, 5, f"JWTAuth error: {detail}")


def _respond(state: EmulatorState, view: View, **path: str) -> tuple[Response, int]:
    result = view(state, **path)
    body, status = result if isinstance(result, tuple) else (result, 200)
    return jsonify({**body, "duration": _duration()}), status


def _duration() -> str:
    started = getattr(g, "started", time.perf_counter())
    return f"{(time.perf_counter() - started) * 1000:.2f}ms"


def _object(body: Json, key: str) -> Json:
    value = body.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, 4, f"{key} must be an object")
    return value


def _rate_limit_headers(response: Response) -> Response:
    """The true budget of the request's family; an injected 429 keeps its remaining of 0."""
    verdict: Verdict | None = g.get("rate_limit")
    for name, value in (verdict.headers() if verdict else {}).items():
        response.headers.setdefault(name, value)
    return response


def _api_error(error: ApiError) -> tuple[Response, int]:
    response = jsonify(error.body(_duration()))
    response.headers.update(error.headers)
    return response, error.status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    code = 16 if status == 404 else 4
    detail = f"{request.method} {request.path}: {error.name}"
    return _api_error(ApiError(status, code, detail))


def _internal_error(error: Exception) -> tuple[Response, int]:
    log.exception("emulator bug while serving %s %s", request.method, request.path)
    return _api_error(ApiError(500, -1, f"internal emulator error: {error!r}"))


# -- views --------------------------------------------------------------------------------


def upsert_users(state: EmulatorState) -> tuple[Json, int]:
    return {"users": state.upsert_users(_object(request_body(), "users"))}, 201


def query_users(state: EmulatorState) -> Json:
    """Only the id filters the bot uses: {"id": x} and {"id": {"$in": [...]}}."""
    payload = json.loads(request.args.get("payload") or "{}")
    wanted = payload.get("filter_conditions", {}).get("id")
    ids = wanted.get("$in", []) if isinstance(wanted, dict) else [wanted]
    return {"users": state.find_users([str(i) for i in ids])}


def list_commands(state: EmulatorState) -> Json:
    return {"commands": state.list_commands()}


def create_command(state: EmulatorState) -> tuple[Json, int]:
    return {"command": state.create_command(request_body())}, 201


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


def create_channel_type(state: EmulatorState) -> tuple[Json, int]:
    return state.create_channel_type(request_body()), 201


def get_channel_type(state: EmulatorState, ctype: str) -> Json:
    return state.get_channel_type(ctype)


def update_channel_type(state: EmulatorState, ctype: str) -> Json:
    return state.update_channel_type(ctype, request_body())


def get_app(state: EmulatorState) -> Json:
    return {"app": state.get_app()}


def update_app(state: EmulatorState) -> Json:
    state.update_app(request_body())
    return {}


def send_message(state: EmulatorState, ctype: str, channel_id: str) -> tuple[Json, int]:
    message = _object(request_body(), "message")
    return {"message": state.send_message(ctype, channel_id, message)}, 201


def get_many_messages(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    cid = f"{ctype}:{channel_id}"
    found = [state.get_message(i) for i in ids if i in state.messages]
    return {"messages": [m for m in found if m["cid"] == cid]}


def get_message(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.get_message(message_id)}


def update_message_partial(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.update_partial(message_id, request_body())}


def ephemeral_message_update(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.update_partial(message_id, request_body(), persist=False)}


def update_message(state: EmulatorState, message_id: str) -> Json:
    return {"message": state.update_full(message_id, _object(request_body(), "message"))}


def get_replies(state: EmulatorState, parent_id: str) -> Json:
    return {"messages": state.get_replies(parent_id, request.args.to_dict())}


def send_event(state: EmulatorState, ctype: str, channel_id: str) -> tuple[Json, int]:
    """Watchers get the event from the state's feed; app event hooks get it here."""
    data = _object(request_body(), "event")
    if g.get("user_id"):
        data = {**data, "user": {"id": g.user_id}}  # a client sends as itself
    event = state.send_event(ctype, channel_id, data)
    deliver_event(state, event)
    return {"event": event}, 201


def query_channel(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    """GetOrCreateChannel; with `watch: true` and a connection_id it also watches."""
    body = request_body()
    data, opts = dict(body.get("data") or {}), body.get("messages") or {}
    if g.get("user_id") and not (data.get("created_by") or data.get("created_by_id")):
        data["created_by_id"] = g.user_id  # a client creates as itself
    watcher = _connection(state, body, "GetOrCreateChannel") if body.get("watch") else None
    found = state.query_channel(ctype, channel_id, data, opts)
    cid = found["channel"]["cid"]
    if watcher is not None:
        state.connections.watch(watcher.id, cid)
    return {**found, "watcher_count": state.connections.watcher_count(cid)}


def stop_watching(state: EmulatorState, ctype: str, channel_id: str) -> tuple[Json, int]:
    connection = _connection(state, request_body(), "StopWatchingChannel")
    state.connections.stop_watching(connection.id, f"{ctype}:{channel_id}")
    return {}, 201


def _connection(state: EmulatorState, body: Json, op: str) -> Connection:
    """The caller's own WebSocket connection, named in the query string or the body."""
    connection_id = request.args.get("connection_id") or body.get("connection_id")
    if not connection_id:
        raise fail(op, 400, 4, "watching needs the connection_id of a WebSocket connection")
    connection = state.connections.get(str(connection_id))
    if connection is None or g.get("user_id") not in (None, connection.user_id):
        detail = f"connection {connection_id} not found"
        raise fail(op, 400, CONNECTION_NOT_FOUND, detail)
    return connection


CHANNEL = "/channels/<ctype>/<channel_id>"
MESSAGE = "/messages/<message_id>"
ROUTES: list[tuple[str, str, str, View]] = [
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
    ("POST", f"{CHANNEL}/message", "SendMessage", send_message),
    ("GET", f"{CHANNEL}/messages", "GetManyMessages", get_many_messages),
    ("POST", f"{CHANNEL}/event", "SendEvent", send_event),
    ("POST", f"{CHANNEL}/query", "GetOrCreateChannel", query_channel),
    ("POST", f"{CHANNEL}/stop-watching", "StopWatchingChannel", stop_watching),
    ("POST", CHANNEL, "UpdateChannel", update_channel),
    ("GET", "/members", "QueryMembers", query_members),
    ("GET", MESSAGE, "GetMessage", get_message),
    ("PUT", MESSAGE, "UpdateMessagePartial", update_message_partial),
    ("POST", MESSAGE, "UpdateMessage", update_message),
    ("PATCH", f"{MESSAGE}/ephemeral", "EphemeralMessageUpdate", ephemeral_message_update),
    ("GET", "/messages/<parent_id>/replies", "GetReplies", get_replies),
]
