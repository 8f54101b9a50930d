"""Counters, once-marks and token buckets in Redis: every operation is one Lua script.

Owns the keys `limit:<key>` (a hash: value `v`, expiry `e`), `limits:expiry` (a sorted set
of those keys by expiry, so pruning need not scan) and `bucket:<name>` (a hash: tokens `t`
counted at time `at`). The caller's `now` is passed in, never Redis TIME, so every process
(and every test's fake clock) judges expiry alike; Redis also forgets a counter by itself,
after the same span measured on its own clock (PEXPIRE expires_at - now).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from gptbot.store.limits import TOKEN_EPSILON, Charge, check_charges, check_count, check_rate
from gptbot.store.redis.expiry import ExpiryIndex

# Shared by the counter scripts. Numbers go back to Redis through string.format: Lua
# would print them with 14 significant digits. `e` keeps the caller's exact string.
_COUNTER_LUA = """
local function live(key, now)
  local h = redis.call('HMGET', key, 'v', 'e')
  if h[1] and h[2] and tonumber(h[2]) > now then return tonumber(h[1]) end
  return 0
end
local function write(index, key, value, expires_at, now)
  redis.call('HSET', key, 'v', string.format('%d', value), 'e', expires_at)
  local ttl = math.ceil((tonumber(expires_at) - now) * 1000)
  if ttl > 0 then redis.call('PEXPIRE', key, string.format('%d', ttl))
  else redis.call('DEL', key) end
  redis.call('ZADD', index, expires_at, key)
end
local now = tonumber(ARGV[1])
"""

# KEYS: index, counter 1..n. ARGV: now, then amount, limit, expires_at per charge.
# Returns 0 when all were added, else the 1-based number of the first refused charge.
_CHARGE = _COUNTER_LUA + """
local totals = {}
for j = 1, #KEYS - 1 do
  local key = KEYS[j + 1]
  local total = (totals[key] or live(key, now)) + tonumber(ARGV[3 * j - 1])
  local limit = tonumber(ARGV[3 * j])
  if limit > 0 and total > limit then return j end
  totals[key] = total
end
for j = 1, #KEYS - 1 do
  write(KEYS[1], KEYS[j + 1], totals[KEYS[j + 1]], ARGV[3 * j + 1], now)
end
return 0
"""

# KEYS: index, counter. ARGV: now, delta, expires_at.
_ADJUST = _COUNTER_LUA + """
write(KEYS[1], KEYS[2], math.max(0, live(KEYS[2], now) + tonumber(ARGV[2])), ARGV[3], now)
"""

# KEYS: counters. ARGV: now. Returns their live values as strings.
_COUNTERS = _COUNTER_LUA + """
local values = {}
for i = 1, #KEYS do values[i] = string.format('%d', live(KEYS[i], now)) end
return values
"""

# KEYS: index, mark. ARGV: now, expires_at. Any live entry under the key blocks the mark.
_MARK = _COUNTER_LUA + """
local e = redis.call('HGET', KEYS[2], 'e')
if e and tonumber(e) > now then return 0 end
write(KEYS[1], KEYS[2], 1, ARGV[2], now)
return 1
"""

# KEYS: bucket. ARGV: now, per_minute, epsilon, burst, count. Mirrors gptbot.store.limits.take_from
# operation for operation, so both backends compute the same floats.
_TAKE = """
local now, per_minute, eps = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rate, cap, n = per_minute / 60.0, tonumber(ARGV[4]), tonumber(ARGV[5])
if cap == 0 then cap = per_minute end
local tokens, at = cap, now
local h = redis.call('HMGET', KEYS[1], 't', 'at')
if h[1] and h[2] then tokens, at = tonumber(h[1]), tonumber(h[2]) end
if now < at then return string.format('%.17g', at - now + math.max(0, n - tokens) / rate) end
tokens = math.min(cap, tokens + (now - at) * rate)
if tokens >= n - eps then
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', math.max(0, tokens - n)), 'at', ARGV[1])
  return '0'
end
return string.format('%.17g', (n - tokens) / rate)
"""

# KEYS: bucket. ARGV: until. A hold only ever moves the bucket's restart later.
_HOLD = """
local at = redis.call('HGET', KEYS[1], 'at')
if at and tonumber(at) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 't', '1', 'at', ARGV[1])
return 1
"""

class RedisLimits:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._expiry = ExpiryIndex(client, prefix + "limits:expiry")
        self._index = self._expiry.name
        self._charge = client.register_script(_CHARGE)
        self._adjust = client.register_script(_ADJUST)
        self._counters = client.register_script(_COUNTERS)
        self._mark = client.register_script(_MARK)
        self._take = client.register_script(_TAKE)
        self._hold = client.register_script(_HOLD)

    def _key(self, key: str) -> str:
        return f"{self._prefix}limit:{key}"

    def _bucket(self, name: str) -> str:
        return f"{self._prefix}bucket:{name}"

    def charge(self, charges: Sequence[Charge], now: float) -> Charge | None:
        check_charges(charges)
        keys = [self._index, *(self._key(c.key) for c in charges)]
        args: list[Any] = [repr(float(now))]
        for c in charges:
            args += [c.amount, c.limit, repr(float(c.expires_at))]
        refused = int(self._charge(keys=keys, args=args))
        return charges[refused - 1] if refused else None

    def adjust(self, key: str, delta: int, expires_at: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        args = [repr(float(now)), delta, repr(float(expires_at))]
        self._adjust(keys=[self._index, self._key(key)], args=args)

    def counters(self, keys: Sequence[str], now: float) -> dict[str, int]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        values = self._counters(keys=[self._key(k) for k in unique], args=[repr(float(now))])
        return {key: int(value) for key, value in zip(unique, values, strict=True)}

    def mark_once(self, key: str, expires_at: float, now: float) -> bool:
        args = [repr(float(now)), repr(float(expires_at))]
        return bool(self._mark(keys=[self._index, self._key(key)], args=args))

    def take_token(
        self, bucket: str, per_minute: int, now: float, burst: int = 0, count: int = 1
    ) -> float:
        check_rate(per_minute)
        check_count(count, per_minute, burst)
        args = [repr(float(now)), per_minute, repr(TOKEN_EPSILON), burst, count]
        return float(self._take(keys=[self._bucket(bucket)], args=args))

    def hold_bucket(self, bucket: str, until: float) -> None:
        self._hold(keys=[self._bucket(bucket)], args=[repr(float(until))])

    def prune_limits(self, now: float) -> int:
        return self._expiry.prune(now)
