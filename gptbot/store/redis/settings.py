"""Per-channel settings in Redis: one hash per channel."""

from __future__ import annotations

from typing import Any


class RedisSettings:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _settings(self, cid: str) -> str:
        return f"{self._prefix}channel:{cid}:settings"

    def channel_settings(self, cid: str) -> dict[str, str]:
        return dict(self._redis.hgetall(self._settings(cid)))

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        if value is None:
            self._redis.hdel(self._settings(cid), name)
        else:
            self._redis.hset(self._settings(cid), name, value)
