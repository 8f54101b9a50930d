"""The questions of each conversation in the order they were asked, in Redis: one sorted set
per conversation (`order:<key>`, scored by when each was asked; Redis orders equal scores by
member, as SQLite's tie-break does) and `order:at`, every entry by time, for pruning."""

from __future__ import annotations

import json
from typing import Any


class RedisTurnOrder:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._by_time = prefix + "order:at"

    def _order(self, conversation: str) -> str:
        return f"{self._prefix}order:{conversation}"

    def join_turn(self, conversation: str, key: str, asked_at: float) -> None:
        with self._redis.pipeline() as pipe:
            pipe.zadd(self._order(conversation), {key: asked_at}, nx=True)
            pipe.zadd(self._by_time, {_entry(conversation, key): asked_at}, nx=True)
            pipe.execute()

    def turns_ahead(self, conversation: str, key: str) -> list[str]:
        rank = self._redis.zrank(self._order(conversation), key)
        if not rank:  # not queued (None), or first (0)
            return []
        return list(self._redis.zrange(self._order(conversation), 0, rank - 1))

    def leave_turn(self, conversation: str, key: str) -> None:
        with self._redis.pipeline() as pipe:
            pipe.zrem(self._order(conversation), key)
            pipe.zrem(self._by_time, _entry(conversation, key))
            pipe.execute()

    def prune_turn_order(self, before: float) -> int:
        entries = self._redis.zrangebyscore(self._by_time, "-inf", f"({float(before)!r}")
        for entry in entries:
            self.leave_turn(*json.loads(entry))
        return len(entries)


def _entry(conversation: str, key: str) -> str:
    return json.dumps([conversation, key], separators=(",", ":"))
