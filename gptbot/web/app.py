"""The HTTP side: Stream's custom-command webhook, its event webhook, and a health check."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from gptbot.config import EVENTS_PATH, Config
from gptbot.core.errors import BadRequest, InvalidSignature
from gptbot.costs.prices import unpriced_models
from gptbot.services import Services, build_services
from gptbot.web import commands, events, signature, webhook
from gptbot.web.context import CommandContext

log = logging.getLogger(__name__)
bp = Blueprint("gptbot", __name__)


def create_app(config: Config, services: Services | None = None) -> Flask:
    app = Flask("gptbot")
    # Twice the cap so gzip bodies reach decode_body, which applies the real limit.
    app.config["MAX_CONTENT_LENGTH"] = 2 * config.max_body_bytes
    services = services or build_services(config)
    app.extensions["gptbot"] = services
    unpriced = ", ".join(unpriced_models(services.costs.prices, config.model_chain()))
    app.extensions["gptbot.commands"] = CommandContext(
        config, services.stores.jobs, services.stores.conversations, services.prompts,
        services.queue, services.costs.quotas, unpriced,
    )
    app.register_blueprint(bp)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def current_services() -> Services:
    return current_app.extensions["gptbot"]


@bp.post("/webhooks/stream")
@bp.post("/webhooks/stream/<command>")
def stream_webhook(command: str | None = None) -> ResponseReturnValue:
    services = current_services()
    call = webhook.parse_command(_verified_body(services), request.headers.get("X-Webhook-Id"))
    return jsonify(commands.respond(call, current_app.extensions["gptbot.commands"]))


@bp.post(EVENTS_PATH)
def stream_event_webhook() -> ResponseReturnValue:
    """Stream's app event hook, pointed here for `ai_indicator.stop` (Stop generating)."""
    services = current_services()
    event = events.parse_event(_verified_body(services))
    return {"status": events.handle_event(event, services.stores.jobs)}


def _verified_body(services: Services) -> bytes:
    raw = request.get_data()
    body = webhook.decode_body(
        raw, request.headers.get("Content-Encoding"), services.config.max_body_bytes
    )
    _check_signature(raw, body, services.config.stream_api_secret)
    return body


def _check_signature(raw: bytes, body: bytes, secret: str) -> None:
    """Stream signs the uncompressed body; a proxy that gzips in transit leaves that intact."""
    given = request.headers.get("X-Signature")
    candidates = (body,) if raw is body else (body, raw)
    if not any(signature.verify(candidate, given, secret) for candidate in candidates):
        raise InvalidSignature("X-Signature does not match the body")


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    return {"status": "ok", "queued": current_services().queue.pending()}


def _bad_request(exc: BadRequest) -> ResponseReturnValue:
    log.info("rejected webhook (%d): %s", exc.status, exc)
    return {"error": str(exc)}, exc.status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return {"error": exc.description or exc.name}, exc.code or 500


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    # Our fault, not the caller's (a locked database, Redis down): log it, answer in JSON.
    # Stream then saves the message as typed; nothing is claimed, so a retry can succeed.
    log.exception("webhook failed: %s", exc)
    return {"error": "temporarily unavailable"}, 503

