"""What a channel member sees when the bot cannot answer because of configuration."""

from __future__ import annotations

import pytest

from gptbot.core.errors import (
    ConfigError,
    GptBotError,
    LimitReached,
    ProviderAuthError,
    ProviderError,
    broken_part,
    member_message,
)
from gptbot.llm.providers.http import ContentFiltered
from gptbot.local.weights import NoLocalModel

OPERATOR = "An operator has to fix it."


@pytest.mark.parametrize(("exc", "part"), [
    (ProviderAuthError("HTTP 401 from api.openai.com: Incorrect API key sk-abc…"),
     "the language model's API key was rejected"),
    (ProviderAuthError("HTTP 404 from api.openai.com: The model `x` does not exist"),
     "the language model's name is unknown to its provider"),
    (ProviderAuthError("HTTP 404 from llm.example: page not found"),
     "the language model's address is wrong"),
    (ProviderAuthError("HTTP 400 from llm.example: bad max_tokens"),
     "the language model refused the bot's request settings"),
    (ProviderAuthError("odd"), "the language model is misconfigured"),
    (ConfigError("OPENAI_API_KEY is not set: add it"),
     "the setting OPENAI_API_KEY is missing or wrong"),
    (ConfigError("/etc/prices.toml: not a valid TOML price file"),
     "a setting of the bot is missing or wrong"),
])
def test_configuration_faults_name_the_part(exc, part):
    assert broken_part(exc) == part
    assert member_message(exc) == f"Sorry, I can't answer: {part}. {OPERATOR}"


def test_no_secret_or_detail_reaches_the_channel():
    exc = ProviderAuthError("HTTP 401 from api.openai.com: Incorrect API key sk-abc123")
    assert "sk-abc123" not in member_message(exc)
    assert "api.openai.com" not in member_message(exc)


@pytest.mark.parametrize("exc", [
    ProviderError("timeout"), LimitReached("Your daily limit is used up."),
    ContentFiltered("HTTP 400 from azure: content_filter"), NoLocalModel("none"),
    GptBotError("x"),
])
def test_other_errors_keep_their_own_message(exc):
    assert broken_part(exc) is None
    assert member_message(exc) == exc.user_message


def test_a_raiser_may_name_the_part():
    exc = ConfigError("whatever")
    exc.part = "the bot's tools could not be loaded"
    assert member_message(exc) == (
        f"Sorry, I can't answer: the bot's tools could not be loaded. {OPERATOR}")
