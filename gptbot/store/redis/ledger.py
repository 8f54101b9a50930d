"""The usage ledger in Redis: one sorted set of JSON rows scored by `at`.

Owns the keys `ledger` (the rows), `ledger:seq` (a counter), `ledger:user:<id>` (the
members of each user's rows, so forgetting a user needs no scan) and `ledger:reply:<id>`
(each reply's members for its audit row, kept a day: the audit is written as the answer
ends). Each member starts with a zero-padded sequence number, which keeps identical rows
apart and, since members of equal score sort by their bytes, keeps rows of the same `at` in
recording order.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from gptbot.store.ledger import FORGOTTEN, LedgerRow

_SEQ_DIGITS = 20

# KEYS: ledger, seq, the user's index, the reply's index. ARGV: at, row JSON, index TTL.
_RECORD = """
local member = string.format('%020d', redis.call('INCR', KEYS[2])) .. ARGV[2]
redis.call('ZADD', KEYS[1], ARGV[1], member)
redis.call('SADD', KEYS[3], member)
redis.call('SADD', KEYS[4], member)
redis.call('EXPIRE', KEYS[4], ARGV[3])
"""
REPLY_INDEX_S = 86_400

# KEYS: ledger, the user's index. ARGV: old member, new member, … (pairs).
# A member that is gone (pruned) is only dropped from the index.
_SWAP = """
local n = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZADD', KEYS[1], score, ARGV[i + 1])
    n = n + 1
  end
  redis.call('SREM', KEYS[2], ARGV[i])
end
return n
"""


class RedisLedger:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._ledger = prefix + "ledger"
        self._seq = prefix + "ledger:seq"
        self._users = prefix + "ledger:user:"
        self._replies = prefix + "ledger:reply:"
        self._record = client.register_script(_RECORD)
        self._swap = client.register_script(_SWAP)

    def record(self, row: LedgerRow) -> None:
        args = [repr(float(row.at)), _json(row), REPLY_INDEX_S]
        keys = [self._ledger, self._seq, self._users + row.user_id, self._replies + row.reply_id]
        self._record(keys=keys, args=args)

    def reply_rows(self, reply_id: str, since: float) -> list[LedgerRow]:
        # Members sort by their sequence number: recording order. A row forget-me rewrote
        # keeps its old text here for at most a day; only the audit of an answer ending then
        # reads it, and its tokens and cost are the same.
        members = sorted(self._redis.smembers(self._replies + reply_id))
        rows = [_row(member) for member in members]
        return sorted((row for row in rows if row.at >= since), key=lambda row: row.at)

    def rows(self, since: float, until: float) -> list[LedgerRow]:
        members = self._redis.zrangebyscore(self._ledger, repr(float(since)), f"({float(until)!r}")
        return [_row(member) for member in members]

    def prune_ledger(self, before: float) -> int:
        members = self._redis.zrangebyscore(self._ledger, "-inf", f"({float(before)!r}")
        if not members:
            return 0
        with self._redis.pipeline() as pipe:
            pipe.zrem(self._ledger, *members)
            for member in members:
                pipe.srem(self._users + _row(member).user_id, member)
            return int(pipe.execute()[0])

    def anonymise_user(self, user_id: str) -> int:
        index = self._users + user_id
        pairs: list[str] = []
        for member in self._redis.smembers(index):
            fresh = _row(member)
            pairs += [member, member[:_SEQ_DIGITS] + _json(_forgotten(fresh))]
        if not pairs:
            return 0
        return int(self._swap(keys=[self._ledger, index], args=pairs))


def _json(row: LedgerRow) -> str:
    return json.dumps(asdict(row), separators=(",", ":"))


def _row(member: str) -> LedgerRow:
    return LedgerRow(**json.loads(member[_SEQ_DIGITS:]))


def _forgotten(row: LedgerRow) -> LedgerRow:
    return replace(row, user_id=FORGOTTEN)
