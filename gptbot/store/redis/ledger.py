"""The usage ledger in Redis: one sorted set of JSON rows scored by `at`.

Owns the keys `ledger` (the rows) and `ledger:seq` (a counter). Each member starts with a
zero-padded sequence number, which keeps identical rows apart and, since members of equal
score sort by their bytes, keeps rows of the same `at` in recording order.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gptbot.store.ledger import LedgerRow

_SEQ_DIGITS = 20

# KEYS: ledger, seq. ARGV: at, row JSON.
_RECORD = """
local id = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ARGV[1], string.format('%020d', id) .. ARGV[2])
"""


class RedisLedger:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._ledger = prefix + "ledger"
        self._seq = prefix + "ledger:seq"
        self._record = client.register_script(_RECORD)

    def record(self, row: LedgerRow) -> None:
        args = [repr(float(row.at)), json.dumps(asdict(row), separators=(",", ":"))]
        self._record(keys=[self._ledger, self._seq], args=args)

    def rows(self, since: float, until: float) -> list[LedgerRow]:
        members = self._redis.zrangebyscore(self._ledger, repr(float(since)), f"({float(until)!r}")
        return [LedgerRow(**json.loads(member[_SEQ_DIGITS:])) for member in members]

    def prune_ledger(self, before: float) -> int:
        return int(self._redis.zremrangebyscore(self._ledger, "-inf", f"({float(before)!r}"))
