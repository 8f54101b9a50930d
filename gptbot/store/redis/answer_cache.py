"""Cached answers in Redis.

Owns the keys `answer:<key>` (a string: JSON of the answer `a` and its expiry `e`) and
`answers:expiry` (a sorted set of those keys by expiry, so pruning need not scan). The
caller's `now` is compared with the stored expiry, never Redis TIME, so every process (and
every test's fake clock) judges expiry alike; Redis also forgets an answer by itself, after
the same span measured on its own clock (PEXPIRE expires_at - now).
"""

from __future__ import annotations

import json
import math
from typing import Any

from gptbot.store.redis.expiry import ExpiryIndex


class RedisAnswers:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._expiry = ExpiryIndex(client, prefix + "answers:expiry")
        self._index = self._expiry.name

    def _key(self, key: str) -> str:
        return f"{self._prefix}answer:{key}"

    def get(self, key: str, now: float) -> str | None:
        raw = self._redis.get(self._key(key))
        if raw is None:
            return None
        entry = json.loads(raw)
        return str(entry["a"]) if float(entry["e"]) > now else None

    def put(self, key: str, answer: str, expires_at: float, now: float) -> None:
        name = self._key(key)
        ttl_ms = math.ceil((expires_at - now) * 1000)
        with self._redis.pipeline(transaction=True) as pipe:
            if ttl_ms > 0:
                pipe.set(name, json.dumps({"a": answer, "e": expires_at}), px=ttl_ms)
            else:
                pipe.delete(name)  # already expired: nothing to keep, but prune still counts it
            pipe.zadd(self._index, {name: expires_at})
            pipe.execute()

    def prune_answers(self, now: float) -> int:
        return self._expiry.prune(now)
