"""Jobs and stop requests in Redis: a hash per job, and sorted sets of the active ones (queued
or running), the running ones and all of them, each scored by the job's last change.

Every state change is one Lua script: it reads and writes the job in one atomic step, as
SQLite's conditional UPDATE does, so two processes can never both win a claim or a start,
and a finished job can never be re-queued by a sweep that read it just before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from gptbot.store.jobs import (
    DONE,
    DONE_RETENTION_S,
    FAILED,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    JobRecord,
    check_ended,
)

# KEYS: the job's hash, then the active, all and running sets. ARGV[1] the job key, ARGV[2] now.
_COMMON = """
local function place(set, member_of)
  if member_of then
    redis.call('ZADD', set, ARGV[2], ARGV[1])
  else
    redis.call('ZREM', set, ARGV[1])
  end
end
local function index(new_state)
  place(KEYS[2], new_state == 'queued' or new_state == 'running')
  place(KEYS[3], true)
  place(KEYS[4], new_state == 'running')
end
local function fenced(attempt)
  local n = tonumber(attempt)
  return n > 0 and tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') ~= n
end
local state = redis.call('HGET', KEYS[1], 'state')
"""
# ARGV[3] payload
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[3], 'state', 'queued', 'updated_at', ARGV[2],
           'attempts', 0, 'reason', '', 'owner', '')
index('queued')
return 1
"""
# ARGV[3] lease seconds, ARGV[4] owner
_START = """
local at = tonumber(redis.call('HGET', KEYS[1], 'updated_at') or '0')
if state == 'queued' or (state == 'running' and at < tonumber(ARGV[2]) - tonumber(ARGV[3])) then
  local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HSET', KEYS[1], 'state', 'running', 'updated_at', ARGV[2], 'owner', ARGV[4])
  index('running')
  return attempt
end
return 0
"""
# ARGV[3] attempt (0 = any)
_HEARTBEAT = """
if state ~= 'running' or fenced(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
index('running')
return 1
"""
# ARGV[3] attempt (0 = any), ARGV[4] reason ('' keeps the last one)
_REQUEUE = """
if (state ~= 'queued' and state ~= 'running') or fenced(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'updated_at', ARGV[2], 'owner', '')
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[4]) end
index('queued')
return 1
"""
# ARGV[3] reason
_RETRY = """
if state ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2], 'reason', ARGV[3])
index('running')
return 1
"""
# ARGV[3] ended state, ARGV[4] reason ('' keeps the last one), ARGV[5] retention seconds
_FINISH = """
if not state then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updated_at', ARGV[2], 'owner', '')
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
index(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[5]))
return 1
"""
_PAGE = 200  # jobs read per round trip when listing


class RedisJobs:
    def __init__(self, client: Any, prefix: str) -> None:
        # Any: redis-py's types cannot express decode_responses=True (str, not bytes).
        self._redis = client
        self._prefix = prefix
        self._active = prefix + "jobs:active"
        self._all = prefix + "jobs:all"
        self._running = prefix + "jobs:running"
        scripts = {"claim": _CLAIM, "start": _START, "heartbeat": _HEARTBEAT,
                   "requeue": _REQUEUE, "retry": _RETRY, "finish": _FINISH}
        self._scripts = {name: client.register_script(_COMMON + body)
                         for name, body in scripts.items()}

    def _job(self, key: str) -> str:
        return f"{self._prefix}job:{key}"

    def _run(self, script: str, key: str, now: float, *args: Any) -> int:
        keys = [self._job(key), self._active, self._all, self._running]
        return int(self._scripts[script](keys=keys, args=[key, repr(now), *args]))

    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        return bool(self._run("claim", key, now, json.dumps(payload)))

    def release_job(self, key: str) -> None:
        with self._redis.pipeline() as pipe:  # MULTI/EXEC: all or nothing
            pipe.delete(self._job(key))
            pipe.zrem(self._active, key)
            pipe.zrem(self._all, key)
            pipe.zrem(self._running, key)
            pipe.execute()

    def start_job(self, key: str, now: float, lease_s: float, owner: str = "") -> int:
        return self._run("start", key, now, repr(lease_s), owner)

    def heartbeat_job(self, key: str, now: float, attempt: int = 0) -> bool:
        return bool(self._run("heartbeat", key, now, attempt))

    def finish_job(self, key: str, now: float, state: str = DONE, reason: str = "") -> None:
        self._run("finish", key, now, check_ended(state), reason, DONE_RETENTION_S)

    def fail_job(self, key: str, reason: str, now: float) -> None:
        self.finish_job(key, now, FAILED, reason)

    def retry_job(self, key: str, reason: str, now: float) -> None:
        self._run("retry", key, now, reason)

    def requeue_job(self, key: str, now: float, attempt: int = 0, reason: str = "") -> bool:
        return bool(self._run("requeue", key, now, attempt, reason))

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        # Each index holds what may be stale, so a long queue is not read on every sweep.
        keys = self._redis.zrangebyscore(self._running, 0, now - lease_s)
        keys += self._redis.zrangebyscore(self._active, 0, now - queued_grace_s)
        records = self._records(list(dict.fromkeys(keys)))
        return [r for r in records if _is_stale(r, now, lease_s, queued_grace_s)]

    def job(self, key: str) -> JobRecord | None:
        return next(iter(self._records([key])), None)

    def jobs(self, state: str | None = None, limit: int = 50) -> list[JobRecord]:
        index = {RUNNING: self._running, QUEUED: self._active}.get(state or "", self._all)
        found: list[JobRecord] = []
        for page in self._pages(index):
            found += [r for r in self._records(page) if state is None or r.state == state]
            if len(found) >= limit:
                break
        return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]

    def _pages(self, index: str) -> Iterator[list[str]]:
        start = 0
        while page := self._redis.zrevrange(index, start, start + _PAGE - 1):
            yield page
            start += _PAGE

    def _records(self, keys: list[str]) -> list[JobRecord]:
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(self._job(key))
            hashes = pipe.execute()
        # A hash gone (expired after its retention) or without payload is no job.
        return [_record(k, d) for k, d in zip(keys, hashes, strict=True) if d and "payload" in d]

    def request_stop(self, scope: str, now: float) -> None:
        self._redis.set(f"{self._prefix}stop:{scope}", repr(now), ex=STOP_RETENTION_S)

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        if not scopes:
            return False
        marks = self._redis.mget([f"{self._prefix}stop:{scope}" for scope in scopes])
        return any(mark is not None and float(mark) >= since for mark in marks)


def _record(key: str, data: dict[str, str]) -> JobRecord:
    return JobRecord(key, json.loads(data["payload"]), data["state"], float(data["updated_at"]),
                     int(data.get("attempts") or 0), data.get("reason", ""),
                     data.get("owner", ""))


def _is_stale(record: JobRecord, now: float, lease_s: float, queued_grace_s: float) -> bool:
    if record.state == RUNNING:
        return record.updated_at < now - lease_s
    return record.state == QUEUED and record.updated_at < now - queued_grace_s
