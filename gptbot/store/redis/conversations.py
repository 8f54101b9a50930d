"""Conversations in Redis: a sorted set for the order, a hash of turns, a summary."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gptbot.core.types import Conversation, Turn


class RedisConversations:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _conversation(self, conversation: str) -> tuple[str, str, str]:
        """Keys of the turn order (sorted set), the turns (hash by id) and the summary."""
        base = f"{self._prefix}conv:{conversation}:"
        return base + "order", base + "turns", base + "summary"

    def add_turn(self, conversation: str, turn: Turn) -> None:
        order, turns, _ = self._conversation(conversation)
        with self._redis.pipeline() as pipe:
            pipe.zadd(order, {turn.id: turn.asked_at})
            pipe.hset(turns, turn.id, json.dumps(asdict(turn)))
            pipe.execute()

    def load_conversation(self, conversation: str) -> Conversation:
        order, turns, summary = self._conversation(conversation)
        with self._redis.pipeline() as pipe:  # MULTI: a concurrent fold is all or nothing
            pipe.get(summary)
            pipe.zrange(order, 0, -1)
            pipe.hgetall(turns)
            text, ids, data = pipe.execute()
        return Conversation(text or "", [Turn(**json.loads(data[i])) for i in ids if i in data])

    def fold_conversation(self, conversation: str, turn_ids: list[str], summary: str) -> None:
        order, turns, summary_key = self._conversation(conversation)
        with self._redis.pipeline() as pipe:
            if turn_ids:
                pipe.zrem(order, *turn_ids)
                pipe.hdel(turns, *turn_ids)
            pipe.set(summary_key, summary)
            pipe.execute()

    def forget_conversation(self, conversation: str) -> None:
        self._redis.delete(*self._conversation(conversation))
