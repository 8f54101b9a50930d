"""Two harmless tools that ship with gptbot: enable with GPTBOT_TOOLS=gptbot.builtin_tools.

Neither touches the network or any data beyond what the job already has.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gptbot.tools import ToolContext, tool


@tool
def current_time(timezone: str | None = None) -> dict[str, str]:
    """The current date and time, with the weekday.

    Args:
        timezone: An IANA time zone name such as Europe/Berlin or America/New_York;
            UTC when omitted.
    """
    try:
        zone = ZoneInfo(timezone) if timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {timezone!r}; use an IANA name such as Europe/Berlin"
        ) from None
    now = datetime.now(zone)
    return {
        "iso": now.isoformat(timespec="seconds"),
        "weekday": now.strftime("%A"),
        "timezone": timezone or "UTC",
    }


@tool
def channel_info(context: ToolContext) -> dict[str, str]:
    """Which Stream Chat channel this conversation is in, and who asked the question."""
    return {
        "channel_type": context.channel_type,
        "channel_id": context.channel_id,
        "cid": f"{context.channel_type}:{context.channel_id}",
        "asking_user_id": context.user_id,
        "asking_user_name": context.user_name,
    }
