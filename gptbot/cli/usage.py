"""`gptbot usage`: the operator's report, read from the ledger (and the votes on the
replies) in the configured store."""

from __future__ import annotations

import time

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.costs.periods import Periods, parse_timezone
from gptbot.costs.report import parse_date, render_csv, render_json, render_table, summarize
from gptbot.store import open_stores

RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


def report(config: Config, since: str | None, until: str | None, by: str, fmt: str) -> str:
    """Rows with since ≤ time < until (local dates; default: this month so far)."""
    periods = Periods(parse_timezone(config.limits.timezone))
    now = time.time()
    try:
        start = parse_date(since, periods) if since else _month_start(periods, now)
        end = parse_date(until, periods) if until else now
    except ValueError as exc:
        raise ConfigError(f"--since/--until: {exc}") from None
    stores = open_stores(config.database_url)
    try:
        rows = stores.ledger.rows(start, end)
        votes = stores.feedback.votes(start, end)
    finally:
        stores.close()
    summary = summarize(rows, by, periods, since=start, until=end, votes=votes)
    return RENDERERS[fmt](summary)


def _month_start(periods: Periods, now: float) -> float:
    return parse_date(periods.month(now) + "-01", periods)
