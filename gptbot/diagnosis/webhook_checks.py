"""Checks of the way back, Stream → us: the public URL (GPTBOT_PUBLIC_URL or ngrok), the
app's custom_action_handler_url, whether that URL reaches this very bot, and the Stop hook."""

from __future__ import annotations

import requests

from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import classify, mask
from gptbot.stream.registration import STOP_EVENT
from gptbot.web.public_url import NgrokProblem, find_tunnel
from gptbot.web.signature import sign

PUBLIC_URL = "public URL"
WEBHOOK = "webhook URL"
NGROK_TIMEOUT = 2.0  # the agent is on this machine: it answers at once or not at all


def public_url(context: Context) -> str:
    config = context.config
    if config.public_url:
        if not config.public_url.startswith(("https://", "http://")):
            raise Problem("public_url.invalid", url=config.public_url)
        context.facts["public_url"] = (config.public_url, "GPTBOT_PUBLIC_URL")
        return f"{config.public_url} (GPTBOT_PUBLIC_URL)"
    try:
        url = find_tunnel(config.ngrok_api_url, context.port,
                          timeout=min(context.timeout, NGROK_TIMEOUT))
    except NgrokProblem as exc:
        raise Problem(exc.cause, **exc.values) from exc
    context.facts["public_url"] = (url, "the ngrok tunnel")
    return f"{url} (the ngrok tunnel to port {context.port})"


def webhook(context: Context) -> str:
    config, app = context.config, context.facts["app"]
    base, source = context.facts["public_url"]
    expected = config.handler_url(base)
    current = app.get("custom_action_handler_url") or ""
    if not current:
        raise Problem("webhook.unset", expected=expected)
    if current != expected:
        raise Problem("webhook.elsewhere", current=current, expected=expected)
    target = expected.replace("{type}", config.command)
    _refuses_unsigned(context, target, base, source)
    _accepts_our_signature(context, target)
    return f"{target} answers as this bot (signature checked)"


def _post(context: Context, url: str, base: str, source: str,
          headers: dict[str, str]) -> requests.Response:
    try:
        return requests.post(url, data=b"{}", headers=headers, timeout=context.timeout)
    except requests.RequestException as exc:
        raise Problem("webhook.unreachable", url=url, public_url=base, source=source,
                      reason=classify(exc, context.timeout).reason) from exc


def _refuses_unsigned(context: Context, url: str, base: str, source: str) -> None:
    """An unsigned call must get gptbot's JSON 401: proves the URL reaches a gptbot."""
    response = _post(context, url, base, source, {"Content-Type": "application/json"})
    if response.status_code != 401 or '"error"' not in response.text:
        raise Problem("webhook.not_gptbot", url=url, status=response.status_code, source=source)


def _accepts_our_signature(context: Context, url: str) -> None:
    """A call signed with our secret must pass the signature (its empty body is then
    refused as a bad request, so no job starts): proves the bot there shares our secret."""
    secret = context.config.stream_api_secret
    headers = {"Content-Type": "application/json", "X-Signature": sign(b"{}", secret)}
    response = _post(context, url, url, "", headers)
    if response.status_code == 401:
        raise Problem("webhook.other_secret", url=url, secret=mask(secret))


def event_hooks(context: Context) -> str:
    """The Stop button's event hook; optional (the WebSocket watcher also sees Stop)."""
    base, _ = context.facts["public_url"]
    url = context.config.events_url(base)
    for hook in context.facts["app"].get("event_hooks") or []:
        if hook.get("webhook_url") == url and STOP_EVENT in (hook.get("event_types") or []) \
                and hook.get("enabled", True):
            return f"{STOP_EVENT} → {url}"
    raise Problem("hooks.missing", url=url)
