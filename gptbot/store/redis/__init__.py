"""The Redis implementation of every store contract: for processes on several machines."""

from __future__ import annotations

from typing import Any

import redis

from gptbot.store import Stores
from gptbot.store.redis.answer_cache import RedisAnswers
from gptbot.store.redis.audit import RedisAudit
from gptbot.store.redis.conversations import RedisConversations
from gptbot.store.redis.feedback import RedisFeedback
from gptbot.store.redis.jobs import RedisJobs
from gptbot.store.redis.ledger import RedisLedger
from gptbot.store.redis.limits import RedisLimits
from gptbot.store.redis.settings import RedisSettings
from gptbot.store.redis.turn_order import RedisTurnOrder


def open_redis(url: str, prefix: str = "gptbot:") -> Stores:
    return redis_stores(redis.Redis.from_url(url, decode_responses=True), prefix)


def redis_stores(client: Any, prefix: str = "gptbot:") -> Stores:
    """Every contract on one client; `prefix` keeps apps (and tests) sharing a Redis apart."""
    return Stores(
        jobs=RedisJobs(client, prefix), conversations=RedisConversations(client, prefix),
        settings=RedisSettings(client, prefix), limits=RedisLimits(client, prefix),
        ledger=RedisLedger(client, prefix), answers=RedisAnswers(client, prefix),
        audit=RedisAudit(client, prefix), feedback=RedisFeedback(client, prefix),
        turn_order=RedisTurnOrder(client, prefix), close=client.close,
    )
