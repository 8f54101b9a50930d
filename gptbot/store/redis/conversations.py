"""Conversations in Redis: a sorted set for the order, a hash of turns, a summary.

Two indexes let retention and forget-me work without a scan: `turns:at`, every turn scored
by when it was asked, and `turns:user:<id>`, each user's turns. Both hold the same member,
the JSON list [conversation, turn id, user id]. A summary remembers whose turns it was folded
from (`conv:<key>:summary_users`), and each user the conversations whose summary holds their
words (`summaries:user:<id>`), so forget-me deletes those summaries too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from gptbot.core.types import Conversation, Turn

# KEYS: a conversation's order, summary and summary users. Drops the summary (and whose it
# was) once no turn is left.
_DROP_LONE_SUMMARY = """
if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('DEL', KEYS[2], KEYS[3]) end
return 0
"""


class RedisConversations:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._by_time = prefix + "turns:at"
        self._drop_lone_summary = client.register_script(_DROP_LONE_SUMMARY)

    def _conversation(self, conversation: str) -> tuple[str, str, str]:
        """Keys of the turn order (sorted set), the turns (hash by id) and the summary."""
        base = f"{self._prefix}conv:{conversation}:"
        return base + "order", base + "turns", base + "summary"

    def _user(self, user_id: str) -> str:
        return f"{self._prefix}turns:user:{user_id}"

    def _summary_users(self, conversation: str) -> str:
        return f"{self._prefix}conv:{conversation}:summary_users"

    def _user_summaries(self, user_id: str) -> str:
        return f"{self._prefix}summaries:user:{user_id}"

    def add_turn(self, conversation: str, turn: Turn) -> None:
        order, turns, _ = self._conversation(conversation)
        member = _member(conversation, turn.id, turn.user_id)
        with self._redis.pipeline() as pipe:
            pipe.zadd(order, {turn.id: turn.asked_at})
            pipe.hset(turns, turn.id, json.dumps(asdict(turn)))
            pipe.zadd(self._by_time, {member: turn.asked_at})
            pipe.sadd(self._user(turn.user_id), member)
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
        _, turns, summary_key = self._conversation(conversation)
        found = self._redis.hmget(turns, turn_ids) if turn_ids else []
        members = [_member(conversation, turn_id, json.loads(data)["user_id"])
                   for turn_id, data in zip(turn_ids, found, strict=True) if data]
        users = {json.loads(member)[2] for member in members}
        with self._redis.pipeline() as pipe:
            self._drop(pipe, members)
            pipe.set(summary_key, summary)
            if users:
                pipe.sadd(self._summary_users(conversation), *users)
            for user_id in users:
                pipe.sadd(self._user_summaries(user_id), conversation)
            pipe.execute()

    def forget_conversation(self, conversation: str) -> None:
        _, turns, _ = self._conversation(conversation)
        members = [_member(conversation, turn_id, json.loads(data)["user_id"])
                   for turn_id, data in self._redis.hgetall(turns).items()]
        with self._redis.pipeline() as pipe:
            self._drop(pipe, members)
            pipe.delete(*self._conversation(conversation), self._summary_users(conversation))
            pipe.execute()

    def prune_turns(self, before: float) -> int:
        members = self._redis.zrangebyscore(self._by_time, "-inf", f"({float(before)!r}")
        count = self._delete(members)
        for conversation in {json.loads(member)[0] for member in members}:
            order, _, summary = self._conversation(conversation)
            self._drop_lone_summary(keys=[order, summary, self._summary_users(conversation)])
        return count

    def forget_user(self, user_id: str) -> int:
        """Their turns, and every summary folded from any of them (it mixes in others'
        words, so it goes whole). An index entry whose summary has since been replaced by
        one without them is skipped: the summary-users set is the truth."""
        for conversation in self._redis.smembers(self._user_summaries(user_id)):
            users = self._summary_users(conversation)
            if self._redis.sismember(users, user_id):
                self._redis.delete(self._conversation(conversation)[2], users)
        self._redis.delete(self._user_summaries(user_id))
        return self._delete(self._redis.smembers(self._user(user_id)))

    def _delete(self, members: Iterable[str]) -> int:
        """Delete the turns these index members name; how many there were."""
        members = list(members)
        if not members:
            return 0
        with self._redis.pipeline() as pipe:
            self._drop(pipe, members)
            return sum(self._removed_turns(pipe.execute(), len(members)))

    def _drop(self, pipe: Any, members: list[str]) -> None:
        """Queue: each member's turn out of its conversation and out of both indexes."""
        for member in members:
            conversation, turn_id, user_id = json.loads(member)
            order, turns, _ = self._conversation(conversation)
            pipe.hdel(turns, turn_id)
            pipe.zrem(order, turn_id)
            pipe.zrem(self._by_time, member)
            pipe.srem(self._user(user_id), member)

    @staticmethod
    def _removed_turns(results: list[Any], members: int) -> list[int]:
        return [int(results[4 * n]) for n in range(members)]  # each member's HDEL


def _member(conversation: str, turn_id: str, user_id: str) -> str:
    return json.dumps([conversation, turn_id, user_id], separators=(",", ":"))
