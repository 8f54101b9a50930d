"""The HTTP side: Stream's custom-command webhook, its event webhook, health, readiness and
the Prometheus metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from gptbot.config import EVENTS_PATH, Config
from gptbot.core.errors import BadRequest, InvalidSignature
from gptbot.costs.prices import unpriced_models
from gptbot.services import Services, build_services
from gptbot.stream.reply import reply_id_for
from gptbot.telemetry.health import Readiness
from gptbot.telemetry.logs import set_correlation_id
from gptbot.web import commands, events, signature, webhook
from gptbot.web.context import CommandContext
from gptbot.web.feedback import EVENTS as FEEDBACK_EVENTS
from gptbot.web.feedback import Feedback

log = logging.getLogger(__name__)
bp = Blueprint("gptbot", __name__)
STREAM_TRUST_S = 60.0  # a passing Stream check holds this long: probes spend no rate limit


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
        audit=services.stores.audit, ledger=services.stores.ledger,
        settings=services.stores.settings, stream=services.stream,
        feedback=services.stores.feedback, order=services.answerer.order,
    )
    audit = services.stores.audit if config.safety.audit else None
    app.extensions["gptbot.feedback"] = Feedback(config, services.stores.feedback,
                                                 services.prompts, audit)
    app.extensions["gptbot.readiness"] = readiness_of(services)
    app.register_blueprint(bp)
    app.before_request(_fresh_correlation)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def current_services() -> Services:
    return current_app.extensions["gptbot"]


def _fresh_correlation() -> None:
    """Each request's lines (and its access log line) carry its own id: Stream's delivery
    id until a command is parsed, nothing for a probe; never the thread's previous one."""
    set_correlation_id(request.headers.get("X-Webhook-Id"))


@bp.post("/webhooks/stream")
@bp.post("/webhooks/stream/<command>")
def stream_webhook(command: str | None = None) -> ResponseReturnValue:
    services = current_services()
    route = request.url_rule.rule if request.url_rule else request.path
    with services.telemetry.webhook(route) as hook:
        try:
            answer, hook.outcome = _answer_command(services, hook.correlate)
        except Exception as exc:
            hook.outcome = _failure_outcome(exc)
            raise
    return jsonify(answer)


def _answer_command(
    services: Services, correlate: Callable[[str], None]
) -> tuple[dict[str, Any], str]:
    call = webhook.parse_command(_verified_body(services), request.headers.get("X-Webhook-Id"))
    correlate(reply_id_for(call.message_id or call.webhook_id))  # the job logs this one too
    return commands.respond(call, current_app.extensions["gptbot.commands"])


def _failure_outcome(exc: Exception) -> str:
    if isinstance(exc, InvalidSignature):
        return "bad_signature"
    if isinstance(exc, BadRequest | HTTPException):
        return "bad_request"
    return "error"


@bp.post(EVENTS_PATH)
def stream_event_webhook() -> ResponseReturnValue:
    """Stream's app event hook: `ai_indicator.stop` (Stop generating), and reactions on the
    bot's replies (feedback)."""
    services = current_services()
    event = events.parse_event(_verified_body(services))
    if event["type"] in FEEDBACK_EVENTS:
        return {"status": current_app.extensions["gptbot.feedback"].handle(event)}
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
    """Liveness: the process answers."""
    return {"status": "ok", "queued": current_services().queue.pending()}


@bp.get("/readyz")
def ready() -> ResponseReturnValue:
    """Readiness: the store, the queue and Stream's credentials work; 503 naming each part
    that does not (with the kind of error; the details are in the log)."""
    failing = current_app.extensions["gptbot.readiness"].failures()
    if failing:
        return {"status": "unavailable", "failing": failing}, 503
    return {"status": "ready"}


def readiness_of(services: Services) -> Readiness:
    checks = {
        "store": lambda: services.stores.jobs.stop_requested(["readyz"], time.time()),
        "queue": lambda: services.queue.pending(),
        "stream": lambda: services.stream.app_settings(),  # also proves the key and secret
    }
    return Readiness(checks, {"stream": STREAM_TRUST_S})


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus text format, every process of this deployment added up."""
    services = current_services()
    try:
        services.telemetry.jobs_gauge(queued=services.queue.pending())
    except Exception as exc:  # the rest of the metrics are still worth a scrape
        log.warning("could not count the queued jobs: %s", exc)
    body, content_type = services.telemetry.exposition()
    return Response(body, headers={"Content-Type": content_type})


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

