"""Checks of what runs beside the bot: the store, the job queue, prices, moderation.

A new check of this kind (say the worker's GPTBOT_CONCURRENCY against the store's
connections) is a probe here, a Cause in catalog.py and one line in plan.py's list.
"""

from __future__ import annotations

from gptbot.core.errors import ConfigError
from gptbot.costs.prices import PriceTable, unpriced_models
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import safe_url
from gptbot.jobs.queue import open_huey
from gptbot.safety.moderation import Blocklist, ModerationUnavailable, build_moderator
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


def prices(context: Context) -> str:
    """Every model that may answer needs a price, or its spend is invisible to budgets."""
    config = context.config
    missing = unpriced_models(PriceTable.load(config.prices_file), config.model_chain())
    if missing:
        raise Problem("prices.missing", models=", ".join(missing))
    return f"{len(config.model_chain())} model(s) priced"


def wants_moderation(config: object) -> bool:
    safety = getattr(config, "safety", None)
    return bool(safety and ("openai" in safety.moderation or safety.blocklist))


def moderation(context: Context) -> str:
    """The blocklist parses; the moderation endpoint answers one tiny request."""
    config, found = context.config, []
    safety = config.safety
    if safety.blocklist:
        try:
            found.append(f"{len(Blocklist.load(safety.blocklist).patterns)} blocklist patterns")
        except ConfigError as exc:
            raise Problem("blocklist.invalid", error=str(exc)) from exc
    if "openai" in safety.moderation:
        moderator = build_moderator(("openai",), base_url=config.openai_base_url,
                                    api_key=config.openai_api_key, model=safety.moderation_model,
                                    thresholds=safety.moderation_thresholds, attempts=1)
        try:
            moderator.check("Hello") if moderator else None
        except ModerationUnavailable as exc:
            raise Problem("moderation.unavailable", error=str(exc)) from exc
        found.append(f"{safety.moderation_model} answered")
    return ", ".join(found)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
