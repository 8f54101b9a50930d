"""An expiry index for Redis keys: a sorted set of keys by expiry time, so pruning with the
caller's clock (not Redis TIME) needs no scan, in batches that never block Redis for long."""

from __future__ import annotations

from typing import Any

# KEYS: index. ARGV: now, batch size. Each index entry's score is its key's latest expiry.
_PRUNE = """
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, key in ipairs(keys) do
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], key)
end
return #keys
"""
PRUNE_BATCH = 500  # keys forgotten per script run


class ExpiryIndex:
    def __init__(self, client: Any, name: str) -> None:
        self.name = name
        self._prune = client.register_script(_PRUNE)

    def prune(self, now: float) -> int:
        """Delete every indexed key expired by `now`; returns how many."""
        total = 0
        while True:  # batches, each atomic; stop at the first one that is not full
            pruned = int(self._prune(keys=[self.name], args=[repr(float(now)), PRUNE_BATCH]))
            total += pruned
            if pruned < PRUNE_BATCH:
                return total
