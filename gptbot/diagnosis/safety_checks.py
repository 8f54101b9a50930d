"""The moderation check: the blocklist parses (GPTBOT_BLOCKLIST), and for
GPTBOT_MODERATION=openai a key is set, accepted, and the endpoint answers one tiny request."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from gptbot.core.errors import ConfigError
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import classify, mask
from gptbot.safety.moderation import (
    Blocklist,
    ModerationUnavailable,
    OpenAIModeration,
    parse_thresholds,
)

# OpenAIModeration's words for an HTTP error: "moderation endpoint answered HTTP 401: …".
_STATUS = re.compile(r"answered HTTP (\d{3})")


def wants_moderation(config: Any) -> bool:
    safety = getattr(config, "safety", None)
    return bool(safety and ("openai" in safety.moderation or safety.blocklist))


def moderation(context: Context) -> str:
    safety, found = context.config.safety, []
    if safety.blocklist:
        found.append(blocklist(safety.blocklist))
    if "openai" in safety.moderation:
        found.append(openai_moderation(context))
    return ", ".join(found)


def blocklist(path: str) -> str:
    try:
        return f"{len(Blocklist.load(path).patterns)} blocklist patterns"
    except ConfigError as exc:
        raise Problem("blocklist.invalid", error=str(exc)) from exc


def openai_moderation(context: Context) -> str:
    config, safety = context.config, context.config.safety
    if not config.openai_api_key:
        raise Problem("moderation.key_missing")
    try:
        thresholds = parse_thresholds(safety.moderation_thresholds)
    except ConfigError as exc:
        raise Problem("moderation.config", error=str(exc)) from exc
    endpoint = OpenAIModeration(config.openai_base_url, config.openai_api_key,
                                safety.moderation_model, thresholds, attempts=1,
                                timeout=context.timeout)
    try:
        endpoint.check("Hello")
    except ModerationUnavailable as exc:
        raise moderation_problem(exc, config, context.timeout) from exc
    return f"{safety.moderation_model} answered"


def moderation_problem(exc: ModerationUnavailable, config: Any, timeout: float) -> Problem:
    """exception → cause: no connection, a rejected key, or any other refusal."""
    if exc.__cause__ is not None:  # raised from the HTTP client's error: no answer at all
        return Problem("moderation.unreachable", base_url=config.openai_base_url,
                       reason=classify(exc.__cause__, timeout).reason,
                       on_error=config.safety.moderation_on_error)
    status = _STATUS.search(str(exc))
    if status and status.group(1) in ("401", "403"):
        return Problem("moderation.key_rejected", status=status.group(1),
                       host=urlsplit(config.openai_base_url).netloc,
                       secret=mask(config.openai_api_key))
    return Problem("moderation.unavailable", error=str(exc)[:200])
