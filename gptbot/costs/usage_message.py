"""`/gpt usage`: what a user, a channel or the whole app has used today and this month."""

from __future__ import annotations

from gptbot.core.types import CallTag
from gptbot.costs.quotas import Counter, Quotas, dollars, questions

TITLES = {"user": "Your usage", "channel": "This channel's usage", "app": "The assistant's usage"}


def usage_message(quotas: Quotas, tag: CallTag, scope: str, unpriced_model: str = "") -> str:
    """One short ephemeral text: questions, tokens, cost and what is left of each limit."""
    values = quotas.read(tag)
    now = quotas.clock()
    lines = [f"**{TITLES[scope]}**"]
    for period, name in (("day", "Today"), ("month", "This month")):
        found = {c.metric: (c, v) for c, v in values.items()
                 if c.scope == scope and c.period == period}
        lines.append(f"{name}: " + _period_line(found, quotas, tag))
    day_end = quotas.periods.reset_text(quotas.reset_at("day", now), now)
    lines.append(f"Daily limits reset at {day_end}.")
    if unpriced_model or any(c.metric == "unpriced" and v for c, v in values.items()):
        lines.append(f"Costs leave out calls to a model with no price "
                     f"(unpriced{': ' + unpriced_model if unpriced_model else ''}).")
    return "\n".join(lines)


def _period_line(found: dict[str, tuple[Counter, int]], quotas: Quotas, tag: CallTag) -> str:
    (asked_counter, asked), (spend, micro) = found["q"], found["usd"]
    _, tokens = found["tok"]
    parts = [_with_limit(questions(asked), asked, quotas.allowance(asked_counter, tag), "")]
    parts.append(f"{tokens:,} tokens")
    parts.append(_with_limit(dollars(micro), micro, quotas.allowance(spend, tag), "$"))
    return ", ".join(parts)


def _with_limit(text: str, used: int, allowed: int, unit: str) -> str:
    if not allowed:
        return text
    left = max(allowed - used, 0)
    if unit == "$":
        return f"{text} (budget {dollars(allowed)}, {dollars(left)} left)"
    return f"{text} ({left:,} of {allowed:,} left)"
