"""Checks of the Stream side, in dependency order: reachable → credentials → bot user →
command → channel types. (The webhook URL and event hooks are in webhook_checks.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import DNS, REFUSED, TIMEOUT, TLS, classify, host_port, mask
from gptbot.stream import errors as stream_errors
from gptbot.stream.api import StreamApi, error_code

T = TypeVar("T")
DEFAULT_STREAM_URL = "https://chat.stream-io-api.com"  # the SDK's own default
REACH = "Stream API"
CREDENTIALS = "Stream credentials"
BOT_USER = "bot user"
_NETWORK_CAUSES = {DNS: "stream.dns", REFUSED: "stream.refused", TIMEOUT: "stream.timeout",
                   TLS: "stream.tls"}


def stream_url(config: Any) -> tuple[str, str]:
    """Where the SDK sends requests, and which setting said so (shown beside every error)."""
    if config.stream_chat_url:
        return config.stream_chat_url, f"STREAM_CHAT_URL={config.stream_chat_url}"
    return DEFAULT_STREAM_URL, f"Stream's own API {DEFAULT_STREAM_URL}; STREAM_CHAT_URL is unset"


def stream_api(context: Context) -> StreamApi:
    """One client for all Stream checks: one attempt, the doctor's timeout (answer now)."""
    if "stream" not in context.facts:
        fresh = StreamApi.from_config(context.config, attempts=1)
        fresh.client.timeout = context.timeout
        context.facts["stream"] = fresh
    api: StreamApi = context.facts["stream"]
    return api


def network_problem(exc: BaseException, url: str, origin: str, timeout: float) -> Problem:
    cause = classify(exc, timeout)
    parts = urlsplit(url)
    return Problem(_NETWORK_CAUSES.get(cause.kind, "stream.unreachable"),
                   host=parts.hostname or url, hostport=host_port(url), origin=origin,
                   timeout=timeout, reason=cause.reason)


def stream_problem(exc: StreamAPIException, config: Any) -> Problem:
    """Stream's answer, as the one cause it names (stream/errors.py has its table)."""
    url, origin = stream_url(config)
    code = error_code(exc)
    if not exc.json_response or code is None:  # Stream's errors always carry a code
        return Problem("stream.not_stream", url=url, status=exc.status_code, origin=origin)
    key, secret = config.stream_api_key, mask(config.stream_api_secret)
    if code == 2:
        return Problem("stream.key_unknown", key=key)
    if code in (5, 43) and exc.status_code == 401:
        return Problem("stream.secret_mismatch", key=key, secret=secret, code=code)
    if code in stream_errors.TOKEN_TIME_CODES:
        return Problem("stream.clock", words=stream_errors.plain_words(code))
    if code in (9, 99):
        return Problem("stream.rate_limited" if code == 9 else "stream.suspended", key=key)
    return Problem("stream.error", status=exc.status_code,
                   words=stream_errors.plain_words(code, exc.status_code),
                   hint=stream_errors.hint(code))


def call(context: Context, fn: Callable[..., T], *args: Any) -> T:
    """A Stream call whose failure becomes the one Problem it means."""
    try:
        return fn(*args)
    except StreamAPIException as exc:
        raise stream_problem(exc, context.config) from exc
    except requests.RequestException as exc:
        url, origin = stream_url(context.config)
        raise network_problem(exc, url, origin, context.timeout) from exc


def reach(context: Context) -> str:
    """Any HTTP answer proves the network path; what it says is the credentials' business."""
    url, origin = stream_url(context.config)
    try:
        requests.get(url, timeout=context.timeout)
    except requests.RequestException as exc:
        raise network_problem(exc, url, origin, context.timeout) from exc
    return f"{url} answers ({origin.split(';')[0]})"


def credentials(context: Context) -> str:
    app = call(context, stream_api(context).app_settings)
    context.facts["app"] = app  # the webhook and event-hook checks read the same settings
    return f"app {app.get('name', '?')!r}, key {context.config.stream_api_key}"


def bot_user(context: Context) -> str:
    config = context.config
    user = call(context, stream_api(context).find_user, config.bot_user_id)
    if user is None:
        raise Problem("bot.missing", user=config.bot_user_id)
    return f"{config.bot_user_id} ({user.get('name', '')})"


def command(context: Context) -> str:
    name = context.config.command
    names = [c["name"] for c in call(context, stream_api(context).commands)]
    if name not in names:
        raise Problem("command.missing", command=name)
    return "registered"


def channel_type(channel: str) -> Callable[[Context], str]:
    def probe(context: Context) -> str:
        config = context.config
        try:
            found = call(context, stream_api(context).channel_type, channel)
        except Problem as problem:
            if _does_not_exist(problem.__cause__):
                raise Problem("channel_type.missing", type=channel,
                              types=",".join(config.channel_types)) from problem
            raise
        names = {c["name"] if isinstance(c, dict) else c for c in found.get("commands") or []}
        if config.command not in names and "all" not in names:
            raise Problem("channel_type.disabled", command=config.command, type=channel)
        return f"/{config.command} enabled"
    return probe


def _does_not_exist(exc: BaseException | None) -> bool:
    """Stream's code 16 (Does Not Exist, HTTP 404) in its error table."""
    return isinstance(exc, StreamAPIException) and (error_code(exc) == 16
                                                    or exc.status_code == 404)
