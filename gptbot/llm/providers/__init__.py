"""LLM providers, one module each (its pure wire format in `*_wire.py` beside it), looked
up by name (GPTBOT_PROVIDER, GPTBOT_FALLBACK)."""

from __future__ import annotations

import importlib

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.llm.metering import CallObserver, MeteredProvider
from gptbot.llm.providers.base import Provider
from gptbot.llm.providers.fallback import Candidate, FallbackProvider

# Looked up by name and imported on first use: a deployment loads only the adapters it
# runs, and `local` needs the optional `local` extra.
PROVIDERS: dict[str, str] = {
    "openai": "gptbot.llm.providers.openai:OpenAIProvider",
    "azure": "gptbot.llm.providers.azure:AzureProvider",
    "anthropic": "gptbot.llm.providers.anthropic:AnthropicProvider",
    "gemini": "gptbot.llm.providers.gemini:GeminiProvider",
    "ollama": "gptbot.llm.providers.ollama:OllamaProvider",
    "local": "gptbot.llm.providers.local:LocalModelProvider",
}


def build_provider(config: Config, observer: CallObserver | None = None) -> Provider:
    """The configured provider; wrapped in a FallbackProvider when GPTBOT_FALLBACK is set.

    With an observer, every call to every provider of the chain is metered on its own, so a
    failed attempt is counted against the provider that failed.
    """
    primary = _build(config.provider, config, "GPTBOT_PROVIDER", observer)
    if not config.fallback:
        return primary
    chain = [Candidate(primary)]
    fallbacks = zip(config.fallback, config.model_chain()[1:], strict=True)
    chain += [_fallback_candidate(entry, name, model, config, observer)
              for entry, (name, model) in fallbacks]
    return FallbackProvider(chain)


def _build(
    name: str, config: Config, variable: str, observer: CallObserver | None = None
) -> Provider:
    try:
        module, _, attribute = PROVIDERS[name].partition(":")
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"{variable}: provider {name!r} is unknown; use one of {known}") from None
    provider_class = getattr(importlib.import_module(module), attribute)
    provider: Provider = provider_class.from_config(config)
    return MeteredProvider(provider, observer) if observer else provider


def _fallback_candidate(
    entry: str, name: str, model: str, config: Config, observer: CallObserver | None
) -> Candidate:
    """One `provider:model` entry, already split by `Config.model_chain`."""
    if not model:
        raise ConfigError(f"GPTBOT_FALLBACK entry {entry!r} needs a model: use provider:model")
    return Candidate(_build(name, config, "GPTBOT_FALLBACK", observer), model)


__all__ = ["PROVIDERS", "Provider", "build_provider"]
