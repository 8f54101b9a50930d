"""LLM providers, one module each, looked up by name (GPTBOT_PROVIDER)."""

from __future__ import annotations

from collections.abc import Callable

from gptbot.config import DEFAULT_MODELS, Config
from gptbot.errors import ConfigError
from gptbot.providers.anthropic import AnthropicProvider
from gptbot.providers.azure import AzureProvider
from gptbot.providers.base import ChatMessage, ChatRequest, Provider, ToolSpec
from gptbot.providers.fallback import Candidate, FallbackProvider
from gptbot.providers.gemini import GeminiProvider
from gptbot.providers.ollama import OllamaProvider
from gptbot.providers.openai import OpenAIProvider


def _local(config: Config) -> Provider:
    """The embedded model (`gptbot dev`); imported late: it needs the `local` extra."""
    from gptbot.local_model import LocalModelProvider

    return LocalModelProvider.from_config(config)


PROVIDERS: dict[str, Callable[[Config], Provider]] = {
    "openai": OpenAIProvider.from_config,
    "azure": AzureProvider.from_config,
    "anthropic": AnthropicProvider.from_config,
    "gemini": GeminiProvider.from_config,
    "ollama": OllamaProvider.from_config,
    "local": _local,
}


def build_provider(config: Config) -> Provider:
    """The configured provider; wrapped in a FallbackProvider when GPTBOT_FALLBACK is set."""
    primary = _build(config.provider, config, "GPTBOT_PROVIDER")
    if not config.fallback:
        return primary
    chain = [Candidate(primary)]
    chain += [_fallback_candidate(entry, config) for entry in config.fallback]
    return FallbackProvider(chain)


def _build(name: str, config: Config, variable: str) -> Provider:
    try:
        factory = PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"{variable}: provider {name!r} is unknown; use one of {known}") from None
    return factory(config)


def _fallback_candidate(entry: str, config: Config) -> Candidate:
    """`provider:model`; the model may itself contain colons (ollama:llama3.2:3b)."""
    name, _, model = (part.strip() for part in entry.partition(":"))
    model = model or DEFAULT_MODELS.get(name, "")
    if not model:
        raise ConfigError(f"GPTBOT_FALLBACK entry {entry!r} needs a model: use provider:model")
    return Candidate(_build(name, config, "GPTBOT_FALLBACK"), model)


__all__ = ["PROVIDERS", "ChatMessage", "ChatRequest", "Provider", "ToolSpec", "build_provider"]
