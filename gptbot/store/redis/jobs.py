"""Jobs and stop requests in Redis: a hash per job, a sorted set of active ones."""

from __future__ import annotations

import json
from typing import Any

from gptbot.store.jobs import (
    DONE,
    DONE_RETENTION_S,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    JobRecord,
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


class RedisJobs:
    def __init__(self, client: Any, prefix: str) -> None:
        # Any: redis-py's types cannot express decode_responses=True (str, not bytes).
        self._redis = client
        self._prefix = prefix
        self._active = prefix + "jobs:active"
        self._start = client.register_script(_START)

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

    def request_stop(self, scope: str, now: float) -> None:
        self._redis.set(f"{self._prefix}stop:{scope}", repr(now), ex=STOP_RETENTION_S)

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        if not scopes:
            return False
        marks = self._redis.mget([f"{self._prefix}stop:{scope}" for scope in scopes])
        return any(mark is not None and float(mark) >= since for mark in marks)


def _is_stale(record: JobRecord, now: float, lease_s: float, queued_grace_s: float) -> bool:
    if record.state == RUNNING:
        return record.updated_at < now - lease_s
    return record.state == QUEUED and record.updated_at < now - queued_grace_s
