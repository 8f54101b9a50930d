"""Checks of what runs beside the bot: the store and the job queue. (Limits and prices are
in cost_checks.py, moderation in safety_checks.py, the worker's concurrency in
concurrency_checks.py.) A new check is a probe, a Cause in catalog.py and a line in plan.py.
"""

from __future__ import annotations

from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import safe_url
from gptbot.jobs.queue import open_huey
from gptbot.store import open_stores


def store(context: Context) -> str:
    url = safe_url(context.config.database_url)  # never print a password in a URL
    try:
        stores = open_stores(context.config.database_url)
        try:
            stores.settings.channel_settings("doctor:probe")  # Redis connects on first use
        finally:
            stores.close()
    except Exception as exc:  # sqlite3 and redis raise their own types, both mean "cannot open"
        raise Problem("store.unavailable", url=url, error=_first_line(exc)) from exc
    return url


def queue(context: Context) -> str:
    url = safe_url(context.config.queue_url)
    try:
        waiting = open_huey(context.config.queue_url).pending_count()
    except Exception as exc:  # as for the store: any driver's error means "cannot open"
        raise Problem("queue.unavailable", url=url, error=_first_line(exc)) from exc
    return f"{url}: {waiting} jobs waiting"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
