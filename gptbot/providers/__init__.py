"""LLM providers, one module each, looked up by name."""

from __future__ import annotations

from collections.abc import Callable

from gptbot.config import Config
from gptbot.errors import ConfigError
from gptbot.providers.base import ChatMessage, ChatRequest, Provider


def _openai(config: Config) -> Provider:
    from gptbot.providers.openai import OpenAIProvider

    return OpenAIProvider.from_config(config)


PROVIDERS: dict[str, Callable[[Config], Provider]] = {"openai": _openai}


def build_provider(config: Config) -> Provider:
    try:
        factory = PROVIDERS[config.provider]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(
            f"GPTBOT_PROVIDER={config.provider!r} is unknown; use one of {known}") from None
    return factory(config)


__all__ = ["PROVIDERS", "ChatMessage", "ChatRequest", "Provider", "build_provider"]
