"""Caps on use and spend, as settings (enforced by gptbot.costs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gptbot.config.env import bool_setting, get, int_setting
from gptbot.core.errors import ConfigError


@dataclass(frozen=True)
class CostLimits:
    """Caps on use and spend (0 = off). Checked in the webhook and before each model call."""

    user_daily: int = 50  # commands per user per day
    channel_daily: int = 0  # commands per channel per day
    user_daily_usd: float = 0.0
    channel_daily_usd: float = 0.0
    app_daily_usd: float = 0.0
    app_monthly_usd: float = 0.0
    timezone: str = "UTC"  # where "today" and "this month" end
    exempt_admins: bool = True  # from the per-user and per-channel limits, never the app's

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CostLimits:
        return cls(
            user_daily=int_setting(env, "GPTBOT_USER_DAILY_LIMIT", 50, minimum=0),
            channel_daily=int_setting(env, "GPTBOT_CHANNEL_DAILY_LIMIT", 0, minimum=0),
            user_daily_usd=_usd(env, "GPTBOT_USER_DAILY_BUDGET_USD"),
            channel_daily_usd=_usd(env, "GPTBOT_CHANNEL_DAILY_BUDGET_USD"),
            app_daily_usd=_usd(env, "GPTBOT_DAILY_BUDGET_USD"),
            app_monthly_usd=_usd(env, "GPTBOT_MONTHLY_BUDGET_USD"),
            timezone=_timezone(get(env, "GPTBOT_TIMEZONE") or "UTC"),
            exempt_admins=bool_setting(env, "GPTBOT_LIMITS_EXEMPT_ADMINS", True),
        )


def _usd(env: Mapping[str, str], name: str) -> float:
    raw = get(env, name)
    if raw is None:
        return 0.0
    try:
        value = float(raw.removeprefix("$"))
    except ValueError:
        raise ConfigError(
            f"{name} must be an amount in US dollars, like 5 or 0.50, not {raw!r}"
        ) from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be 0 (off) or a positive amount, not {raw!r}")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"GPTBOT_TIMEZONE {name!r} is not a time zone: use an IANA name such as "
            "UTC, Europe/Berlin or America/New_York"
        ) from None
    return name
