"""The audit log in Redis: a hash of JSON records by reply id, a sorted set of reply ids by
time (`audit:at`) and a set of each user's reply ids (`audit:user:<id>`), so that retention
and forget-me need no scan."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from gptbot.store.audit import AuditQuery, AuditRecord


class RedisAudit:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._records = prefix + "audit"
        self._by_time = prefix + "audit:at"
        self._users = prefix + "audit:user:"

    def record_audit(self, record: AuditRecord) -> None:
        with self._redis.pipeline() as pipe:
            pipe.hset(self._records, record.reply_id, json.dumps(asdict(record)))
            pipe.zadd(self._by_time, {record.reply_id: record.at})
            pipe.sadd(self._users + record.user_id, record.reply_id)
            pipe.execute()

    def audit_records(self, query: AuditQuery) -> list[AuditRecord]:
        if query.user_id is not None:
            ids = list(self._redis.smembers(self._users + query.user_id))
        else:
            ids = self._redis.zrangebyscore(self._by_time, _low(query.since), _high(query.until))
        found = [_record(data) for data in self._redis.hmget(self._records, ids) if data] \
            if ids else []
        return sorted((r for r in found if query.matches(r)), key=lambda r: (r.at, r.reply_id))

    def audit_record(self, reply_id: str) -> AuditRecord | None:
        data = self._redis.hget(self._records, reply_id)
        return _record(data) if data else None

    def prune_audit(self, before: float) -> int:
        ids = self._redis.zrangebyscore(self._by_time, "-inf", _high(before))
        return self._delete(ids)

    def forget_user(self, user_id: str) -> int:
        return self._delete(list(self._redis.smembers(self._users + user_id)))

    def _delete(self, ids: list[str]) -> int:
        if not ids:
            return 0
        users = {r.reply_id: r.user_id
                 for r in (_record(d) for d in self._redis.hmget(self._records, ids) if d)}
        with self._redis.pipeline() as pipe:
            pipe.hdel(self._records, *ids)
            pipe.zrem(self._by_time, *ids)
            for reply_id, user_id in users.items():
                pipe.srem(self._users + user_id, reply_id)
            return int(pipe.execute()[0])


def _record(data: str) -> AuditRecord:
    fields = json.loads(data)
    return AuditRecord(**{**fields, "moderation": tuple(fields["moderation"])})


def _low(since: float) -> str:
    return "-inf" if math.isinf(since) else repr(float(since))


def _high(until: float) -> str:
    return "+inf" if math.isinf(until) else f"({float(until)!r}"
