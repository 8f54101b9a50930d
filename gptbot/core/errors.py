"""The small family of errors gptbot raises on purpose.

Each carries a short `user_message` that is safe to show in a channel; the
exception text itself is for operators and goes to the log.
"""

from __future__ import annotations


class GptBotError(Exception):
    user_message = "Sorry, something went wrong. Please try again."


class ConfigError(GptBotError):
    """A setting is missing or malformed; start-up stops with this message."""

    user_message = "Sorry, the bot is not completely set up yet. An operator has to fix it."


class BadRequest(GptBotError):
    """The webhook request is not something we can accept (→ 4xx)."""

    status = 400


class InvalidSignature(BadRequest):
    status = 401


class PayloadTooLarge(BadRequest):
    status = 413


class ProviderError(GptBotError):
    """The LLM could not produce (the rest of) an answer."""

    user_message = "Sorry, the language model is not answering right now. Please try again."


class ProviderAuthError(ProviderError):
    """The LLM rejected our credentials or request; retrying will not help."""

    user_message = "Sorry, the bot's language model is misconfigured. An operator has to fix it."


class ProviderTimeout(ProviderError):
    user_message = "Sorry, the language model stopped responding. Please try again."


class LimitReached(GptBotError):
    """A quota or budget is used up; the message says which, and when it resets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class SetupError(GptBotError):
    """Registering with Stream (or finding the public URL) failed."""
