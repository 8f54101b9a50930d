"""Stream Chat's server-side REST API, as the `stream-chat` SDK calls it, served by Flask.

Each route's endpoint name is Stream's operation name (SendMessage, UpdateMessagePartial…),
which is also the key of `state.requests`, so tests can count calls per operation. The
routes themselves live in app_routes.py, channel_routes.py, message_routes.py and files.py.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gptbot.emulator import auth
from gptbot.emulator.app_routes import APP_ROUTES
from gptbot.emulator.channel_routes import CHANNEL_ROUTES
from gptbot.emulator.errors import ApiError, View
from gptbot.emulator.files import FILE_ROUTES, with_cdn
from gptbot.emulator.message_routes import MESSAGE_ROUTES
from gptbot.emulator.rate_limits import Verdict
from gptbot.emulator.state import EmulatorState
from gptbot.emulator.websocket import with_websocket

log = logging.getLogger(__name__)

# What a user token may do here (the JS SDK's watch, stop-watching and sendEvent); every
# other operation the emulator serves is the server SDK's and wants a server token.
USER_OPS = frozenset({"GetOrCreateChannel", "StopWatchingChannel", "SendEvent"})
# The operations whose spec-v1 responses declare 201, not 200 (GetStream/protocol
# openapi/chat-openapi.json e51a64d3, `responses` per operationId; StopWatchingChannel is
# in openapi/chat-openapi-clientside.json). The stream-chat SDK takes any status below 399.
CREATED = frozenset({
    "UpdateUsers", "CreateCommand", "UpdateCommand", "CreateChannelType",
    "UpdateChannelType", "SendMessage", "UpdateMessage", "UpdateMessagePartial", "SendEvent",
    "GetOrCreateChannel", "StopWatchingChannel", "UpdateChannel", "UploadChannelFile",
    "UploadChannelImage",
})
ROUTES = [*APP_ROUTES, *CHANNEL_ROUTES, *MESSAGE_ROUTES, *FILE_ROUTES]


def create_emulator_app(state: EmulatorState) -> Flask:
    app = Flask("gptbot.emulator")
    # Keep insertion order so responses read like Stream's (id, text, type, user…).
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["emulator_state"] = state
    for method, rule, op, view in ROUTES:
        app.add_url_rule(rule, op, partial(_respond, state, op, view), methods=[method])
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


def _respond(state: EmulatorState, op: str, view: View, **path: str) -> tuple[Response, int]:
    body = view(state, **path)
    return jsonify({**body, "duration": _duration()}), 201 if op in CREATED else 200


def _duration() -> str:
    started = getattr(g, "started", time.perf_counter())
    return f"{(time.perf_counter() - started) * 1000:.2f}ms"


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
