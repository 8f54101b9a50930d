"""`gptbot doctor`: check a deployment end to end and say how to fix what is broken."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.config import Config
from gptbot.core.errors import GptBotError
from gptbot.core.events import StreamError
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.costs.prices import PriceTable, unpriced_models
from gptbot.jobs.queue import open_huey
from gptbot.llm.providers import build_provider
from gptbot.safety.moderation import Blocklist, ModerationUnavailable, build_moderator
from gptbot.store import open_stores
from gptbot.stream.api import StreamApi
from gptbot.web.public_url import public_url_for


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


class Failed(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.fix = fix


def run_checks(environ: Mapping[str, str] | None = None, port: int | None = None) -> list[Check]:
    try:
        config = Config.from_env(environ)
    except GptBotError as exc:
        return [Check("configuration", False, str(exc), "set it in .env, then run doctor again")]
    stream = StreamApi.from_config(config, attempts=1)  # a check answers now, not after backoff
    checks = [Check("configuration", True, f"provider {config.provider}, model {config.model}")]
    for name, probe in _probes(config, stream, port):
        checks.append(_run(name, probe))
    return checks


def _probes(config: Config, stream: StreamApi,
            port: int | None) -> Iterator[tuple[str, Callable[[], str]]]:
    yield "Stream credentials", lambda: _credentials(stream)
    yield "bot user", lambda: _bot_user(stream, config)
    yield f"/{config.command} command", lambda: _command(stream, config)
    for channel_type in config.channel_types:
        yield f"enabled on {channel_type!r}", partial(_enabled, stream, config, channel_type)
    yield "webhook URL", lambda: _handler_url(stream, config, port)
    yield "language model", lambda: _llm(config)
    yield "prices", lambda: _prices(config)
    yield "store", lambda: _store(config)
    yield "job queue", lambda: _queue(config)
    if "openai" in config.safety.moderation or config.safety.blocklist:
        yield "moderation", lambda: _moderation(config)


def _run(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except Failed as exc:
        return Check(name, False, str(exc), exc.fix)
    except (GptBotError, StreamAPIException, requests.RequestException, OSError) as exc:
        return Check(name, False, str(exc), "see the detail; `gptbot setup` fixes registration")


def _credentials(stream: StreamApi) -> str:
    try:
        app = stream.app_settings()
    except StreamAPIException as exc:
        if exc.status_code in (401, 403):
            raise Failed("Stream rejected the key/secret", "copy both from the Stream "
                         "dashboard into STREAM_API_KEY and STREAM_API_SECRET") from exc
        raise
    return f"app {app.get('name', '?')!r}"


def _bot_user(stream: StreamApi, config: Config) -> str:
    user = stream.find_user(config.bot_user_id)
    if user is None:
        raise Failed(f"no user {config.bot_user_id!r}", "run `gptbot setup`")
    return f"{config.bot_user_id} ({user.get('name', '')})"


def _command(stream: StreamApi, config: Config) -> str:
    names = [c["name"] for c in stream.commands()]
    if config.command not in names:
        raise Failed(f"/{config.command} is not registered", "run `gptbot setup`")
    return "registered"


def _enabled(stream: StreamApi, config: Config, channel_type: str) -> str:
    commands = stream.channel_type(channel_type).get("commands") or []
    names = {c["name"] if isinstance(c, dict) else c for c in commands}
    if config.command not in names and "all" not in names:
        raise Failed(f"/{config.command} is off for {channel_type!r}", "run `gptbot setup`")
    return "enabled"


def _handler_url(stream: StreamApi, config: Config, port: int | None) -> str:
    current = stream.app_settings().get("custom_action_handler_url") or ""
    try:
        expected = config.handler_url(public_url_for(config, port))
    except GptBotError as exc:
        raise Failed(str(exc), "set GPTBOT_PUBLIC_URL or start ngrok") from exc
    if current != expected:
        raise Failed(f"Stream calls {current or 'nothing'}, not {expected}",
                     "run `gptbot setup` (one URL serves all custom commands of an app)")
    _reachable(expected.replace("{type}", config.command))
    return f"{expected} answers"


def _reachable(url: str) -> None:
    # An unsigned call must be refused with our 401: proves the URL reaches this bot.
    response = requests.post(url, data=b"{}", timeout=5)
    if response.status_code != 401 or "error" not in response.text:
        raise Failed(f"{url} answered HTTP {response.status_code}, not gptbot's 401",
                     "is `gptbot serve` running behind that URL?")


def _llm(config: Config) -> str:
    request = ChatRequest(config.model, (ChatMessage("user", "Say OK."),), max_tokens=1)
    for event in build_provider(config).stream(request):
        if isinstance(event, StreamError):
            raise Failed(event.message, "check the model name and the provider's settings")
        return f"{config.provider} answered"
    return f"{config.provider} answered (empty)"


def _moderation(config: Config) -> str:
    """The blocklist parses; the moderation endpoint answers one tiny request."""
    safety, found = config.safety, []
    if safety.blocklist:
        found.append(f"{len(Blocklist.load(safety.blocklist).patterns)} blocklist patterns")
    if "openai" in safety.moderation:
        moderator = build_moderator(("openai",), base_url=config.openai_base_url,
                                    api_key=config.openai_api_key, model=safety.moderation_model,
                                    thresholds=safety.moderation_thresholds, attempts=1)
        try:
            moderator.check("Hello") if moderator else None
        except ModerationUnavailable as exc:
            raise Failed(str(exc), "check OPENAI_API_KEY, OPENAI_BASE_URL and "
                         "GPTBOT_MODERATION_MODEL") from exc
        found.append(f"{safety.moderation_model} answered")
    return ", ".join(found)


def _prices(config: Config) -> str:
    """Every model that may answer needs a price, or its spend is invisible to budgets."""
    prices = PriceTable.load(config.prices_file)
    missing = unpriced_models(prices, config.model_chain())
    if missing:
        raise Failed(f"no price for {', '.join(missing)}: its usage shows as unpriced",
                     "add it to a TOML file named by GPTBOT_PRICES (docs/costs.md)")
    return f"{len(config.model_chain())} model(s) priced"


def _store(config: Config) -> str:
    open_stores(config.database_url).close()
    return config.database_url.split("@")[-1]  # never print a password in a URL


def _queue(config: Config) -> str:
    return f"{open_huey(config.queue_url).pending_count()} jobs waiting"


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        lines.append(f"{mark}  {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':4}  {'':<{width}}  fix: {check.fix}")
    return "\n".join(lines)
