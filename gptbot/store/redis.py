"""Redis backend: for deployments whose processes run on several machines."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import redis

from gptbot.store.base import (
    DONE,
    DONE_RETENTION_S,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    Conversation,
    JobRecord,
    Turn,
)

# Moves a job to running only from queued, or from running whose lease has expired.
_START = """
local state = redis.call('HGET', KEYS[1], 'state')
local at = tonumber(redis.call('HGET', KEYS[1], 'updated_at') or '0')
if state == 'queued' or (state == 'running' and at < tonumber(ARGV[1]) - tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'state', 'running', 'updated_at', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


class RedisStore:
    def __init__(self, client: Any, prefix: str = "gptbot:") -> None:
        # Any: redis-py's types cannot express decode_responses=True (str, not bytes).
        self._redis = client
        self._prefix = prefix
        self._active = prefix + "jobs:active"
        self._start = client.register_script(_START)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        return cls(redis.Redis.from_url(url, decode_responses=True))

    def _job(self, key: str) -> str:
        return f"{self._prefix}job:{key}"

    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        fields = {"payload": json.dumps(payload), "state": QUEUED, "updated_at": repr(now)}
        if not self._redis.hsetnx(self._job(key), "state", QUEUED):
            return False
        with self._redis.pipeline() as pipe:
            pipe.hset(self._job(key), mapping=fields)
            pipe.zadd(self._active, {key: now})
            pipe.execute()
        return True

    def release_job(self, key: str) -> None:
        with self._redis.pipeline() as pipe:
            pipe.delete(self._job(key))
            pipe.zrem(self._active, key)
            pipe.execute()

    def start_job(self, key: str, now: float, lease_s: float) -> bool:
        return bool(self._start(keys=[self._job(key), self._active], args=[now, lease_s, key]))

    def heartbeat_job(self, key: str, now: float) -> None:
        if self._redis.hget(self._job(key), "state") == RUNNING:
            self._redis.hset(self._job(key), "updated_at", repr(now))
            self._redis.zadd(self._active, {key: now})

    def finish_job(self, key: str, now: float) -> None:
        with self._redis.pipeline() as pipe:
            pipe.hset(self._job(key), mapping={"state": DONE, "updated_at": repr(now)})
            pipe.expire(self._job(key), DONE_RETENTION_S)
            pipe.zrem(self._active, key)
            pipe.execute()

    def requeue_job(self, key: str, now: float) -> None:
        if self._redis.hget(self._job(key), "state") in (QUEUED, RUNNING):
            self._redis.hset(self._job(key), mapping={"state": QUEUED, "updated_at": repr(now)})
            self._redis.zadd(self._active, {key: now})

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        oldest = now - min(lease_s, queued_grace_s)
        records = (self._record(key) for key in self._redis.zrangebyscore(self._active, 0, oldest))
        return [r for r in records if r is not None and _is_stale(r, now, lease_s, queued_grace_s)]

    def _record(self, key: str) -> JobRecord | None:
        data = self._redis.hgetall(self._job(key))
        if not data or "payload" not in data:
            return None
        return JobRecord(key, json.loads(data["payload"]), data["state"], float(data["updated_at"]))

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

    def _settings(self, cid: str) -> str:
        return f"{self._prefix}channel:{cid}:settings"

    def channel_settings(self, cid: str) -> dict[str, str]:
        return dict(self._redis.hgetall(self._settings(cid)))

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        if value is None:
            self._redis.hdel(self._settings(cid), name)
        else:
            self._redis.hset(self._settings(cid), name, value)

    def request_stop(self, scope: str, now: float) -> None:
        self._redis.set(f"{self._prefix}stop:{scope}", repr(now), ex=STOP_RETENTION_S)

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        if not scopes:
            return False
        marks = self._redis.mget([f"{self._prefix}stop:{scope}" for scope in scopes])
        return any(mark is not None and float(mark) >= since for mark in marks)

    def close(self) -> None:
        self._redis.close()


def _is_stale(record: JobRecord, now: float, lease_s: float, queued_grace_s: float) -> bool:
    if record.state == RUNNING:
        return record.updated_at < now - lease_s
    return record.state == QUEUED and record.updated_at < now - queued_grace_s
