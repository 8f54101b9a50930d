"""The pure classifiers: exception → cause, secrets → safe shapes, Stream codes → words."""

from __future__ import annotations

import socket
import ssl
from types import SimpleNamespace

import pytest
import requests
from stream_chat.base.exceptions import StreamAPIException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from gptbot.core.errors import ProviderAuthError, ProviderError, ProviderTimeout
from gptbot.diagnosis.model_checks import config_problem, provider_problem
from gptbot.diagnosis.network import (
    DNS,
    OTHER,
    REFUSED,
    TIMEOUT,
    TLS,
    classify,
    mask,
    safe_url,
    tls_reason,
)
from gptbot.diagnosis.stream_checks import stream_problem, stream_url
from gptbot.stream import errors as stream_errors


def wrapped(cause: BaseException) -> requests.ConnectionError:
    """As requests raises it: ConnectionError(MaxRetryError(reason=NewConnectionError))."""
    inner = NewConnectionError(None, f"Failed to establish a new connection: {cause}")
    inner.__cause__ = cause
    return requests.ConnectionError(MaxRetryError(None, "/app", inner))


@pytest.mark.parametrize(("exc", "kind"), [
    (wrapped(ConnectionRefusedError(111, "Connection refused")), REFUSED),
    (wrapped(socket.gaierror(-2, "Name or service not known")), DNS),
    (requests.ConnectTimeout("timed out"), TIMEOUT),
    (requests.ReadTimeout("read timed out"), TIMEOUT),
    (requests.exceptions.SSLError(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version")),
     TLS),
    (ValueError("something else"), OTHER),
])
def test_connection_failures_are_told_apart(exc, kind):
    assert classify(exc, timeout=2).kind == kind


def test_the_reason_is_short_words_not_urllib3s_paragraph():
    cause = classify(wrapped(ConnectionRefusedError(111, "Connection refused")))
    assert cause.reason == "connection refused: nothing listens there"
    assert classify(requests.ConnectTimeout("x"), timeout=0.5).reason == \
        "no answer within 0.5s (timed out)"


def test_tls_reasons():
    assert tls_reason(ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] x")) == \
        "TLS handshake failed: its certificate is not trusted here"
    assert tls_reason(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] x")).endswith(
        "does not speak TLS (an http:// server?)")
    assert tls_reason(ssl.SSLError(1, "odd")) == "TLS handshake failed"


def test_a_secret_shows_only_its_length_and_last_four():
    secret = "sk-proj-" + "x" * 40 + "9abc"
    assert mask(secret) == f"{len(secret)} characters, ending …9abc"
    assert "x" * 5 not in mask(secret)
    assert mask("short") == "5 characters"  # the end of a short secret is most of it
    assert mask(None) == mask("") == "empty"


def test_urls_lose_their_password():
    assert safe_url("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert safe_url("redis://user:pw@cache/0") == "redis://user:***@cache/0"
    assert safe_url("sqlite:///data/gptbot.db") == "sqlite:///data/gptbot.db"


CONFIG = SimpleNamespace(stream_chat_url="http://127.0.0.1:8100", stream_api_key="key1",
                         stream_api_secret="s" * 36 + "tail")


def api_error(status: int, code: int, message: str = "x") -> StreamAPIException:
    return StreamAPIException(f'{{"code": {code}, "message": "{message}"}}', status)


@pytest.mark.parametrize(("exc", "cause"), [
    (api_error(401, 2), "stream.key_unknown"),
    (api_error(401, 43), "stream.secret_mismatch"),
    (api_error(401, 5), "stream.secret_mismatch"),
    (api_error(401, 40), "stream.clock"),
    (api_error(401, 41), "stream.clock"),
    (api_error(429, 9), "stream.rate_limited"),
    (api_error(403, 99), "stream.suspended"),
    (api_error(403, 17), "stream.error"),
    (StreamAPIException("<html>bad gateway</html>", 502), "stream.not_stream"),
    (StreamAPIException('{"error": "no route"}', 404), "stream.not_stream"),
])
def test_stream_answers_map_to_one_cause(exc, cause):
    assert stream_problem(exc, CONFIG).cause.id == cause


def test_the_secret_never_appears_in_a_stream_problem():
    problem = stream_problem(api_error(401, 43), CONFIG)
    assert CONFIG.stream_api_secret not in problem.line + problem.fix
    assert "40 characters, ending …tail" in problem.line


def test_the_stream_url_names_where_it_came_from():
    assert stream_url(CONFIG) == ("http://127.0.0.1:8100", "STREAM_CHAT_URL=http://127.0.0.1:8100")
    default = SimpleNamespace(stream_chat_url=None)
    assert stream_url(default)[1] == ("Stream's own API https://chat.stream-io-api.com; "
                                      "STREAM_CHAT_URL is unset")


MODEL_CONFIG = SimpleNamespace(provider="openai", model="gpt-x", openai_api_key="sk-" + "k" * 30,
                               openai_base_url="https://llm.test/v1")


@pytest.mark.parametrize(("exc", "cause"), [
    (ProviderAuthError("HTTP 401 from llm.test: Incorrect API key"), "model.key_rejected"),
    (ProviderAuthError("HTTP 403 from llm.test: forbidden"), "model.key_rejected"),
    (ProviderAuthError("HTTP 404 from llm.test: The model `gpt-x` does not exist"),
     "model.unknown"),
    (ProviderAuthError("HTTP 400 from llm.test: model 'gpt-x' not found"), "model.unknown"),
    (ProviderAuthError("HTTP 404 from llm.test: 404 page not found"), "model.bad_url"),
    (ProviderAuthError("HTTP 422 from llm.test: bad field"), "model.refused"),
    (ProviderError("cannot reach llm.test: refused"), "model.unreachable"),
    (ProviderTimeout("no response from llm.test: timed out"), "model.unreachable"),
    (ProviderError("HTTP 503 from llm.test: overloaded"), "model.unavailable"),
])
def test_provider_errors_map_to_one_cause(exc, cause):
    assert provider_problem(exc, MODEL_CONFIG, 5.0).cause.id == cause


def test_a_missing_key_names_its_variable():
    from gptbot.core.errors import ConfigError

    problem = config_problem(ConfigError("ANTHROPIC_API_KEY is not set: add it"),
                             SimpleNamespace(provider="anthropic"))
    assert problem.line == "ANTHROPIC_API_KEY is not set (GPTBOT_PROVIDER=anthropic)"


def test_stream_error_table_words_and_hints():
    assert stream_errors.plain_words(20) == "code 20: the message is longer than allowed"
    assert stream_errors.plain_words(None, 502) == "HTTP 502"
    assert stream_errors.plain_words(12345) == "code 12345"
    assert "STREAM_API_KEY" in stream_errors.hint(2)
    assert stream_errors.lookup("4") is None


def test_every_documented_code_is_in_the_table():
    # The codes of Stream's "API Error Codes" table (stream_errors.SOURCE).
    documented = {2, 4, 5, 6, 9, 16, 17, 18, 19, 20, 21, 22, 23, 40, 41, 42, 43, 44, 45, 60, 99}
    assert set(stream_errors.CODES) == documented
    assert all(c.words and c.hint for c in stream_errors.CODES.values())


def test_describe_puts_our_words_before_streams():
    assert stream_errors.describe(404, 16, 'GetChannelType failed with error: "nosuch"') == (
        'HTTP 404, code 16: the resource does not exist in this app '
        '(Stream: "GetChannelType failed with error: "nosuch"")')
    assert stream_errors.describe(502, None) == "HTTP 502"
