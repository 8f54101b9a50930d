"""Quota periods: which local day and month a moment falls in, and when each one ends.

Owns: `Periods` (a time zone plus the calendar arithmetic quotas need), `parse_timezone`
(the check behind GPTBOT_TIMEZONE) and `reset_text` (how a reset time reads in a message).
Pure: every function takes the moment it reasons about; nothing reads the clock except
`reset_text` when no `now` is passed.

Days and months are local to the operator's zone, so a day is 23 or 25 hours long on a DST
change. Ends are computed as "local midnight of the next date", never as "now + 24 h".

`reset_text` format (the "more at …" part of a limit message):
  - the reset is at or before the next local midnight: "HH:MM <zone>", e.g. "00:00 UTC",
    "00:00 (Europe/Berlin)";
  - a later reset (a monthly quota mid-month): "HH:MM on Mon D <zone>", e.g.
    "00:00 on Jan 1 UTC", "00:00 on Jan 1 (Europe/Berlin)".
  <zone> is "UTC" for UTC and the IANA name in parentheses otherwise: abbreviations such as
  "IST" are ambiguous, and the IANA name is what the operator typed into GPTBOT_TIMEZONE.
  Month names are English whatever the process locale; no year, since resets are at most
  a month away.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

ENV_VAR = "GPTBOT_TIMEZONE"
DEFAULT_TIMEZONE = "UTC"

# Fixed English abbreviations: strftime("%b") follows the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UTC_KEYS = frozenset({"UTC", "Etc/UTC"})


def parse_timezone(name: str) -> ZoneInfo:
    """The zone called `name` (an IANA name such as "Europe/Berlin"); ValueError if unknown."""
    cleaned = name.strip()
    if not cleaned:
        raise ValueError(f"{ENV_VAR} is empty: use an IANA time zone name such as 'UTC'")
    try:
        return ZoneInfo(cleaned)
    # ZoneInfo raises ValueError for path-like keys and OSError for unreadable files.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(_unknown_zone_message(cleaned)) from None


def _unknown_zone_message(name: str) -> str:
    known = available_timezones()
    if not known:
        return f"unknown time zone {name!r}: no time zone database found (pip install tzdata)"
    message = (
        f"unknown time zone {name!r} in {ENV_VAR}: use an IANA name such as 'UTC', "
        "'Europe/Berlin' or 'America/New_York'"
    )
    close = _close_zones(name, known)
    return f"{message} (did you mean {' or '.join(map(repr, close))}?)" if close else message


def _close_zones(name: str, known: set[str]) -> list[str]:
    # Zone files are case-sensitive on Linux, so "europe/berlin" fails; match ignoring case.
    wanted = name.lower()
    by_lower = {zone.lower(): zone for zone in known}
    if wanted in by_lower:
        return [by_lower[wanted]]
    # A bare city ("Kolkata") is the commonest slip: offer the zones it ends.
    cities = sorted(zone for zone in known if zone.lower().rsplit("/", 1)[-1] == wanted)
    if cities:
        return cities[:3]
    matches = difflib.get_close_matches(wanted, by_lower, n=3, cutoff=0.75)
    return [by_lower[match] for match in matches]


def zone_label(tz: ZoneInfo) -> str:
    """How the zone appears in messages: "UTC", or the IANA name in parentheses."""
    return "UTC" if tz.key in _UTC_KEYS else f"({tz.key})"


@dataclass(frozen=True, slots=True)
class Periods:
    """Calendar arithmetic in one time zone; every moment is unix time (seconds)."""

    tz: ZoneInfo

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Periods:
        """The zone named by GPTBOT_TIMEZONE in `environ` (UTC when unset or blank)."""
        return cls(parse_timezone(environ.get(ENV_VAR, "").strip() or DEFAULT_TIMEZONE))

    def local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self.tz)

    def day(self, now: float) -> str:
        """The local date, "2026-12-01"."""
        return self.local(now).date().isoformat()

    def month(self, now: float) -> str:
        """The local month, "2026-12"."""
        return self.local(now).strftime("%Y-%m")

    def midnight(self, day: date) -> float:
        """When local `day` begins.

        If midnight itself is skipped by a DST jump, fold=0 resolves it with the offset
        from before the jump, which is exactly the instant of the jump: the day's first
        moment. If midnight happens twice, fold=0 is the first one.
        """
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()

    def day_end(self, now: float) -> float:
        """The next local midnight after `now` (the daily quota's reset)."""
        return self.midnight(self.local(now).date() + timedelta(days=1))

    def month_start(self, now: float) -> float:
        """Local midnight on the first of this month."""
        return self.midnight(self.local(now).date().replace(day=1))

    def month_end(self, now: float) -> float:
        """Local midnight on the first of the next month (the monthly quota's reset)."""
        today = self.local(now).date()
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return self.midnight(date(year, month, 1))

    def reset_text(self, end: float, now: float | None = None) -> str:
        """`end` for a message such as "more at 00:00 UTC"; format in the module docstring.

        `now` defaults to the clock; pass it wherever the caller already has one.
        """
        now = time.time() if now is None else now
        at = self.local(end)
        clock = f"{at:%H:%M}"
        if end > self.day_end(now):
            clock = f"{clock} on {_MONTHS[at.month - 1]} {at.day}"
        return f"{clock} {zone_label(self.tz)}"
