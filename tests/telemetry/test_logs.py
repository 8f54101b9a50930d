"""Log lines: JSON when asked, each with the command's correlation id from the webhook into
the job, its Stream calls and its provider calls; never a secret."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from logging.config import dictConfig

import pytest

from gptbot.config import Config
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.openai import OpenAIProvider
from gptbot.server import configure_logging
from gptbot.telemetry.logs import MASK, LineHandler, Redactor, correlated, gunicorn_logconfig
from tests.support.common import API_SECRET, make_config
from tests.support.loop import wait_for
from tests.telemetry.leaks import SecretSpy, secret_hits, server_token, suite_secrets
from tests.telemetry.support import bot, log_lines


class Logged:
    """The real OpenAI adapter, saying a word in the log when it is asked."""

    def __init__(self, config: Config) -> None:
        self.inner = OpenAIProvider.from_config(config)
        self.name = self.inner.name

    def stream(self, request: ChatRequest) -> Iterator:
        logging.getLogger("tests.provider").info("asking %s", request.model)
        yield from self.inner.stream(request)


def records(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_command_is_followed_by_its_id_from_the_webhook_into_every_call(tmp_path):
    config = make_config(tmp_path, log_format="json")
    with log_lines(config) as buffer, bot(tmp_path, provider=Logged) as b:
        b.state.inject_fault("POST", r"/event", 500)  # one Stream call is retried, and says so
        question = b.ask("/gpt What is the answer?")
        wait_for(lambda: b.finished(), 15, "the answer")
        wait_for(lambda: "answered gpt-" in buffer.getvalue(), 5, "the job's last line")
    lines = records(buffer)  # every line is one JSON object
    reply = f"gpt-{question['id']}"
    mine = {line["logger"] for line in lines if line.get("correlation_id") == reply}
    assert {"gptbot.web.commands", "gptbot.jobs.answer", "tests.provider"} <= mine
    assert any(name.startswith("gptbot.stream") for name in mine)  # the retried Stream call
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)


def test_no_log_line_of_a_whole_run_holds_a_secret(tmp_path):
    config = make_config(tmp_path, log_format="json")
    spy = SecretSpy(suite_secrets())
    logging.getLogger().addHandler(spy)
    try:
        with log_lines(config) as buffer, bot(tmp_path) as b:
            b.ask("/gpt What is the answer?")
            wait_for(lambda: b.finished(), 15, "the answer")
    finally:
        logging.getLogger().removeHandler(spy)
    assert spy.lines > 20  # DEBUG: the SDKs' and urllib3's lines too
    assert spy.hits == []
    assert secret_hits(buffer.getvalue().splitlines(), suite_secrets()) == []


def test_known_secrets_and_any_jwt_are_masked_even_in_a_traceback(tmp_path):
    config = make_config(tmp_path, log_format="json", anthropic_api_key="sk-ant-0123456789")
    buffer = _emit(config, "key sk-ant-0123456789, token %s", server_token(),
                   error=RuntimeError(f"secret {API_SECRET}"))
    [line] = records(buffer)
    assert line["message"] == f"key {MASK}, token {MASK}"
    assert API_SECRET not in line["exception"] and MASK in line["exception"]
    assert Redactor(["short"])("short") == "short"  # too short to be a real key


def test_text_lines_carry_the_correlation_id_too(tmp_path):
    buffer = _emit(make_config(tmp_path, log_format="text"), "hello", correlation="gpt-m1")
    assert buffer.getvalue().rstrip().endswith("INFO tests.lines [gpt-m1]: hello")


def test_gunicorn_access_lines_become_json_with_the_requests_fields(tmp_path):
    config = make_config(tmp_path, log_format="json")
    atoms = {"h": "10.0.0.1", "m": "POST", "U": "/webhooks/stream/gpt", "s": "200",
             "B": 42, "L": "0.012000", "a": "Stream-Webhook", "r": "POST / HTTP/1.1",
             "{authorization}i": "Bearer " + server_token()}
    buffer = _emit(config, '%(h)s "%(r)s" %(s)s', atoms, logger="gunicorn.access")
    [line] = records(buffer)
    assert line["http"] == {"method": "POST", "path": "/webhooks/stream/gpt", "status": 200,
                            "bytes": 42, "duration_s": 0.012, "remote": "10.0.0.1",
                            "user_agent": "Stream-Webhook"}
    assert line["message"] == '10.0.0.1 "POST / HTTP/1.1" 200'


def test_gunicorns_logconfig_routes_its_loggers_through_ours(tmp_path, restore_logging):
    dictConfig(gunicorn_logconfig(make_config(tmp_path, log_format="json")))
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, LineHandler)
    assert logging.getLogger("gunicorn.access").handlers == []
    assert logging.getLogger("gunicorn.access").propagate


def test_configuring_twice_leaves_one_handler(tmp_path, restore_logging):
    config = make_config(tmp_path, log_format="json")
    configure_logging(config)
    configure_logging(config)
    assert sum(isinstance(h, LineHandler) for h in logging.getLogger().handlers) == 1
    assert threading.excepthook is not sys.__excepthook__


@pytest.fixture
def restore_logging(monkeypatch) -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    yield
    logging.captureWarnings(False)
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def _emit(config: Config, message: str, *args: object, logger: str = "tests.lines",
          error: Exception | None = None, correlation: str | None = None) -> io.StringIO:
    """One record straight into a LineHandler: never through the root logger, where the
    suite's own check would rightly find the secrets these records carry on purpose."""
    buffer = io.StringIO()
    exc_info = (type(error), error, None) if error else None
    record = logging.getLogger(logger).makeRecord(logger, logging.INFO, __file__, 0, message,
                                                  args, exc_info)
    with correlated(correlation):
        LineHandler(config, buffer).handle(record)
    return buffer
