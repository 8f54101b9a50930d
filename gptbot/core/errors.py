"""The small family of errors gptbot raises on purpose.

Each carries a short `user_message` that is safe to show in a channel; the
exception text itself is for operators and goes to the log.
"""

from __future__ import annotations

import re

OPERATOR_FIX = "An operator has to fix it."


class GptBotError(Exception):
    user_message = "Sorry, something went wrong. Please try again."
    # Which part of the setup is at fault, in words a channel member may read (a setting's
    # name at most; never a value or a secret). Set by a raiser that knows; else derived by
    # `broken_part` from the error's kind and text.
    part: str | None = None


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


# ProviderAuthError's text as the providers' HTTP layer words it: "HTTP 401 from host: …".
_HTTP_STATUS = re.compile(r"^HTTP (\d{3}) from ")
# A ConfigError names its setting first ("OPENAI_API_KEY is not set: …").
_SETTING = re.compile(r"^([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")


def member_message(exc: GptBotError) -> str:
    """What a channel member reads when the bot cannot answer: for a configuration fault,
    which part is broken ("… the language model's API key was rejected. An operator has
    to fix it."), else the error's own user_message."""
    part = exc.part or broken_part(exc)
    if not part:
        return exc.user_message
    return f"Sorry, I can't answer: {part}. {OPERATOR_FIX}"


def broken_part(exc: GptBotError) -> str | None:
    """Pure: the broken part for the two generic operator faults; None for anything else,
    including subclasses with their own message (a content filter, no local model)."""
    kind = type(exc).user_message
    if kind == ProviderAuthError.user_message:
        return _model_part(str(exc))
    if kind == ConfigError.user_message:
        setting = _SETTING.match(str(exc))
        return f"the setting {setting.group(1)} is missing or wrong" if setting \
            else "a setting of the bot is missing or wrong"
    return None


def _model_part(text: str) -> str:
    status = _HTTP_STATUS.match(text)
    code = int(status.group(1)) if status else 0
    if code in (401, 403):
        return "the language model's API key was rejected"
    if code == 404:
        return ("the language model's name is unknown to its provider" if "model" in text.lower()
                else "the language model's address is wrong")
    if code == 400:
        return "the language model refused the bot's request settings"
    return "the language model is misconfigured"
