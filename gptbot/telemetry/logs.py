"""Log lines: text on a terminal, one JSON object per line for a log collector, every line
with the command's correlation id and no secret in it.

The correlation id lives in a ContextVar: the webhook route sets it for its request thread,
the job sets it for the worker thread while it runs, so every line logged on the way (the
Stream SDK's retries, the provider's HTTP errors) carries it without being passed along.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from gptbot.config import Config

# A ContextVar must be created once, at import: it is a key into each thread's context, not
# state of its own (a new one per object would never be collected).
CORRELATION_ID: ContextVar[str | None] = ContextVar("gptbot_correlation_id", default=None)
MASK = "[redacted]"
# Every JWT starts {"… in base64; the server token and any user token are secrets alike.
JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{2,}\.[\w-]{8,}")
SHORTEST_SECRET = 8  # shorter "secrets" (test placeholders) would mask ordinary words
# gunicorn gives its loggers handlers of their own: their lines are routed through ours.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(correlation)s: %(message)s"


def set_correlation_id(value: str | None) -> None:
    """For the rest of this request (and its access log line, which gunicorn writes after)."""
    CORRELATION_ID.set(value)


@contextmanager
def correlated(value: str | None) -> Iterator[None]:
    """For the duration of a job: the worker thread's next job starts without it."""
    token = CORRELATION_ID.set(value)
    try:
        yield
    finally:
        CORRELATION_ID.reset(token)


class Redactor:
    """Masks known secret values, and anything shaped like a JWT, in a finished line."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        values = {s for s in secrets if s and len(s) >= SHORTEST_SECRET}
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return JWT.sub(MASK, text)


def config_secrets(config: Config) -> list[str | None]:
    return [config.stream_api_secret, config.openai_api_key, config.azure_api_key,
            config.anthropic_api_key, config.gemini_api_key]


class CorrelationFilter(logging.Filter):
    """Stamps each record with the id of the command being served on its thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = CORRELATION_ID.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        cid = getattr(record, "correlation_id", None)
        record.correlation = f" [{cid}]" if cid else ""
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One object per line: time, level, logger, message, correlation_id, and for gunicorn's
    access lines the request's fields, so a collector need not parse the Apache format."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which of gunicorn's processes
        }
        cid = getattr(record, "correlation_id", None)
        if cid:
            fields["correlation_id"] = cid
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            fields["http"] = access_fields(record.args)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        # Masked before encoding: JSON escapes would hide a secret containing " or \.
        return json.dumps(_masked(fields, self.redact), ensure_ascii=False)


def _masked(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _masked(item, redact) for key, item in value.items()}
    return value


def access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """A few of gunicorn's access-log atoms; never its headers (they may carry credentials)."""
    status = str(atoms["s"])
    return {"method": atoms["m"], "path": atoms["U"],
            "status": int(status) if status.isdigit() else status,
            "bytes": atoms["B"], "duration_s": float(atoms["L"]), "remote": atoms["h"],
            "user_agent": atoms["a"]}


class LineHandler(logging.StreamHandler):
    """The one handler every line goes through: formatted, stamped with the id, masked."""

    def __init__(self, config: Config, stream: Any = None) -> None:
        super().__init__(stream or sys.stderr)
        redact = Redactor(config_secrets(config))
        json_lines = config.log_format == "json"
        self.setFormatter(JsonFormatter(redact) if json_lines else TextFormatter(redact))
        self.addFilter(CorrelationFilter())


def install(config: Config, stream: Any = None) -> LineHandler:
    """Every line of this process through one LineHandler on the root logger: ours, the
    libraries', gunicorn's, huey's, warnings and uncaught exceptions. Safe to repeat."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LineHandler)]:
        root.removeHandler(old)
    handler = LineHandler(config, stream)
    root.addHandler(handler)
    root.setLevel(config.log_level)
    for name in GUNICORN_LOGGERS:
        _route_to_root(logging.getLogger(name))
    logging.captureWarnings(True)
    _log_uncaught_exceptions()
    return handler


def _route_to_root(logger: logging.Logger) -> None:
    for own in list(logger.handlers):
        logger.removeHandler(own)
    logger.propagate = True


def _log_uncaught_exceptions() -> None:
    """A thread's or the main program's traceback as one log record, not raw stderr lines."""
    log = logging.getLogger("gptbot.uncaught")

    def in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            name = args.thread.name if args.thread else "?"
            log.error("uncaught in thread %s", name,
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    def in_main(kind: type[BaseException], value: BaseException,
                tb: TracebackType | None) -> None:
        log.critical("uncaught exception", exc_info=(kind, value, tb))

    threading.excepthook = in_thread
    sys.excepthook = in_main


def gunicorn_logconfig(config: Config) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its master's lines and access log through a LineHandler
    too (the workers call `install` again when they load the app)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": config.log_level, "handlers": ["gptbot"]},
        "loggers": {name: {"level": "INFO", "handlers": [], "propagate": True}
                    for name in GUNICORN_LOGGERS},
        "handlers": {"gptbot": {"()": LineHandler, "config": config}},
        "formatters": {},
    }
