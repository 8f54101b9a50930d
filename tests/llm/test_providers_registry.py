"""build_provider: one provider per name, each needing only its own variables."""

from __future__ import annotations

import pytest

from gptbot.core.errors import ConfigError
from gptbot.llm.providers import PROVIDERS, build_provider
from gptbot.llm.providers.fallback import FallbackProvider
from tests.support.provider_streams import env_config

ONLY_THEIR_VARIABLES = {
    "openai": {"OPENAI_API_KEY": "sk-x"},
    "azure": {
        "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
        "AZURE_OPENAI_API_KEY": "k",
        "GPTBOT_MODEL": "deployment",
    },
    "anthropic": {"ANTHROPIC_API_KEY": "sk-ant-x"},
    "gemini": {"GEMINI_API_KEY": "AIza-x"},
    "ollama": {},
    "local": {"GPTBOT_LOCAL_MODEL": "smollm2-135m"},  # built lazily: no server starts here
}


@pytest.mark.parametrize("name", sorted(ONLY_THEIR_VARIABLES))
def test_each_provider_builds_from_its_own_variables(name: str) -> None:
    provider = build_provider(env_config(GPTBOT_PROVIDER=name, **ONLY_THEIR_VARIABLES[name]))
    assert provider.name == name


def test_registry_is_complete() -> None:
    assert sorted(PROVIDERS) == sorted(ONLY_THEIR_VARIABLES)


def test_openai_needs_a_key_only_for_api_openai_com() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_provider(env_config())
    local = build_provider(env_config(OPENAI_BASE_URL="http://127.0.0.1:8080/v1"))
    assert local.name == "openai"


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"GPTBOT_PROVIDER.*anthropic, azure, gemini"):
        build_provider(env_config(GPTBOT_PROVIDER="bard"))


def test_fallback_chain_is_built_when_configured() -> None:
    config = env_config(
        OPENAI_API_KEY="sk",
        ANTHROPIC_API_KEY="a",
        GPTBOT_FALLBACK="anthropic:claude-x, ollama:llama3.2:3b, ollama",
    )
    provider = build_provider(config)
    assert isinstance(provider, FallbackProvider)
    assert [(c.provider.name, c.model) for c in provider.candidates] == [
        ("openai", None),
        ("anthropic", "claude-x"),
        ("ollama", "llama3.2:3b"),
        ("ollama", "llama3.2"),
    ]


@pytest.mark.parametrize(
    ("fallback", "message"),
    [
        ("anthropic:claude-x", "ANTHROPIC_API_KEY"),
        ("palm:x", "GPTBOT_FALLBACK: provider 'palm' is unknown"),
        ("azure", "needs a model"),
    ],
)
def test_fallback_entries_are_checked_at_start(fallback: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_provider(env_config(OPENAI_API_KEY="sk", GPTBOT_FALLBACK=fallback))
