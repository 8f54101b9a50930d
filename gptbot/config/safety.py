"""Safety and privacy settings: redaction, the audit log and how long personal data is kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gptbot.config.env import bool_setting, csv_setting, get, int_setting
from gptbot.core.errors import ConfigError

REDACTABLE = ("email", "phone", "card", "iban", "ip")


MODERATORS = ("openai", "local")


@dataclass(frozen=True)
class SafetySettings:
    redact: tuple[str, ...] = ()  # GPTBOT_REDACT: kinds of personal data kept from providers
    audit: bool = True  # GPTBOT_AUDIT: who asked what, and what was answered
    retention_days: int = 30  # GPTBOT_RETENTION_DAYS: memory and audit rows older are deleted
    moderation: tuple[str, ...] = ()  # GPTBOT_MODERATION: "openai", "local", both, or off
    moderation_model: str = "omni-moderation-latest"
    moderation_thresholds: str = ""  # GPTBOT_MODERATION_THRESHOLDS: "category=0.5,…"
    blocklist: str | None = None  # GPTBOT_BLOCKLIST: a file, one pattern a line
    moderation_mode: str = "blocking"  # or "parallel": checked while the model answers
    moderation_on_error: str = "closed"  # or "open": answer anyway when moderation is down
    operators: tuple[str, ...] = ()  # GPTBOT_OPERATORS: user ids, or role:<name>
    classifier: bool = False  # GPTBOT_MODERATION_CLASSIFIER: the embedded model judges too

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SafetySettings:
        return cls(
            redact=_redact_kinds(get(env, "GPTBOT_REDACT") or ""),
            audit=bool_setting(env, "GPTBOT_AUDIT", True),
            retention_days=int_setting(env, "GPTBOT_RETENTION_DAYS", 30, minimum=1),
            moderation=_moderators(get(env, "GPTBOT_MODERATION") or "off"),
            moderation_model=get(env, "GPTBOT_MODERATION_MODEL") or cls.moderation_model,
            moderation_thresholds=get(env, "GPTBOT_MODERATION_THRESHOLDS") or "",
            blocklist=get(env, "GPTBOT_BLOCKLIST"),
            moderation_mode=_choice(env, "GPTBOT_MODERATION_MODE", ("blocking", "parallel")),
            moderation_on_error=_choice(env, "GPTBOT_MODERATION_ON_ERROR", ("closed", "open")),
            operators=csv_setting(get(env, "GPTBOT_OPERATORS") or ""),
            classifier=_classifier(env),
        )


def _moderators(raw: str) -> tuple[str, ...]:
    names = tuple(name.lower() for name in csv_setting(raw) if name.lower() != "off")
    unknown = sorted(set(names) - set(MODERATORS))
    if unknown:
        raise ConfigError(f"GPTBOT_MODERATION: {', '.join(unknown)} is not a moderator; "
                          "use off, openai, local, or openai,local")
    return names


def _classifier(env: Mapping[str, str]) -> bool:
    """The embedded model as a second `local` check: only where it is the provider, so no
    text leaves the machine for it."""
    if not bool_setting(env, "GPTBOT_MODERATION_CLASSIFIER", False):
        return False
    if "local" not in _moderators(get(env, "GPTBOT_MODERATION") or "off"):
        raise ConfigError("GPTBOT_MODERATION_CLASSIFIER=true needs GPTBOT_MODERATION to "
                          "include local")
    if (get(env, "GPTBOT_PROVIDER") or "openai").lower() != "local":
        raise ConfigError("GPTBOT_MODERATION_CLASSIFIER=true needs the embedded model "
                          "(GPTBOT_PROVIDER=local, as `gptbot dev` runs it)")
    return True


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = (get(env, name) or allowed[0]).lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be {' or '.join(allowed)}, not {value!r}")
    return value


def _redact_kinds(raw: str) -> tuple[str, ...]:
    kinds = tuple(kind.lower() for kind in csv_setting(raw))
    unknown = sorted(set(kinds) - set(REDACTABLE))
    if unknown:
        raise ConfigError(
            f"GPTBOT_REDACT: {', '.join(unknown)} cannot be redacted; "
            f"use a comma list of {', '.join(REDACTABLE)}"
        )
    return kinds
