"""Votes on the bot's replies in Redis: a hash of JSON votes keyed by [reply, person], a
sorted set of those keys by time (`votes:at`) and each person's keys (`votes:user:<id>`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gptbot.store.feedback import Vote

# KEYS: votes hash, by-time set, the voter's set. ARGV: the vote's key, the vote to withdraw.
_WITHDRAW = """
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data or cjson.decode(data)['vote'] ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
"""


class RedisFeedback:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._votes = prefix + "votes"
        self._by_time = prefix + "votes:at"
        self._users = prefix + "votes:user:"
        self._withdraw = client.register_script(_WITHDRAW)

    def record_vote(self, vote: Vote) -> None:
        key = _key(vote.reply_id, vote.user_id)
        with self._redis.pipeline() as pipe:  # MULTI: the three indexes agree
            pipe.hset(self._votes, key, json.dumps(asdict(vote)))
            pipe.zadd(self._by_time, {key: vote.at})
            pipe.sadd(self._users + vote.user_id, key)
            pipe.execute()

    def withdraw_vote(self, reply_id: str, user_id: str, vote: int) -> bool:
        keys = [self._votes, self._by_time, self._users + user_id]
        return bool(self._withdraw(keys=keys, args=[_key(reply_id, user_id), vote]))

    def votes(self, since: float, until: float) -> list[Vote]:
        keys = self._redis.zrangebyscore(self._by_time, repr(float(since)), f"({float(until)!r}")
        found = self._redis.hmget(self._votes, keys) if keys else []
        return [Vote(**json.loads(data)) for data in found if data]

    def prune_votes(self, before: float) -> int:
        return self._delete(self._redis.zrangebyscore(self._by_time, "-inf", f"({float(before)!r}"))

    def forget_voter(self, user_id: str) -> int:
        return self._delete(list(self._redis.smembers(self._users + user_id)))

    def _delete(self, keys: list[str]) -> int:
        if not keys:
            return 0
        with self._redis.pipeline() as pipe:
            pipe.hdel(self._votes, *keys)
            pipe.zrem(self._by_time, *keys)
            for key in keys:
                pipe.srem(self._users + json.loads(key)[1], key)
            return int(pipe.execute()[0])


def _key(reply_id: str, user_id: str) -> str:
    return json.dumps([reply_id, user_id], separators=(",", ":"))
