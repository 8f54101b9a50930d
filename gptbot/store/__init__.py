"""Durable state behind one narrow interface: SQLite by default, Redis for several machines."""

from __future__ import annotations

from gptbot.store.base import Conversation, JobRecord, Store, Turn


def open_store(url: str) -> Store:
    if url.startswith(("redis://", "rediss://", "unix://")):
        from gptbot.store.redis import RedisStore

        return RedisStore.from_url(url)
    if url.startswith("sqlite:///"):
        from gptbot.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    from gptbot.errors import ConfigError

    raise ConfigError(f"GPTBOT_DATABASE_URL must start with sqlite:/// or redis://, not {url!r}")


__all__ = ["Conversation", "JobRecord", "Store", "Turn", "open_store"]
