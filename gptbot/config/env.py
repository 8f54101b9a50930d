"""Reading settings from the environment: each helper names the variable in its error."""

from __future__ import annotations

from collections.abc import Mapping

from gptbot.core.errors import ConfigError


def get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def required(env: Mapping[str, str], name: str) -> str:
    value = get(env, name)
    if value is None:
        raise ConfigError(f"{name} is not set: add it to the environment or to .env")
    return value


def int_setting(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def bool_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = get(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def csv_setting(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
