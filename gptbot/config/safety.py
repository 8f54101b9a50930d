"""Safety and privacy settings: redaction, the audit log and how long personal data is kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gptbot.config.env import bool_setting, csv_setting, get, int_setting
from gptbot.core.errors import ConfigError

REDACTABLE = ("email", "phone", "card", "iban", "ip")


@dataclass(frozen=True)
class SafetySettings:
    redact: tuple[str, ...] = ()  # GPTBOT_REDACT: kinds of personal data kept from providers
    audit: bool = True  # GPTBOT_AUDIT: who asked what, and what was answered
    retention_days: int = 30  # GPTBOT_RETENTION_DAYS: memory and audit rows older are deleted

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SafetySettings:
        return cls(
            redact=_redact_kinds(get(env, "GPTBOT_REDACT") or ""),
            audit=bool_setting(env, "GPTBOT_AUDIT", True),
            retention_days=int_setting(env, "GPTBOT_RETENTION_DAYS", 30, minimum=1),
        )


def _redact_kinds(raw: str) -> tuple[str, ...]:
    kinds = tuple(kind.lower() for kind in csv_setting(raw))
    unknown = sorted(set(kinds) - set(REDACTABLE))
    if unknown:
        raise ConfigError(
            f"GPTBOT_REDACT: {', '.join(unknown)} cannot be redacted; "
            f"use a comma list of {', '.join(REDACTABLE)}"
        )
    return kinds
