"""Per-channel settings in SQLite."""

from __future__ import annotations

from gptbot.store.sqlite.db import SqliteDb


class SqliteSettings:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def channel_settings(self, cid: str) -> dict[str, str]:
        rows = self._db.execute("SELECT name, value FROM channel_settings WHERE cid = ?", (cid,))
        return dict(rows.fetchall())

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM channel_settings WHERE cid = ? AND name = ?", (cid, name))
            return
        self._db.execute(
            "INSERT OR REPLACE INTO channel_settings (cid, name, value) VALUES (?, ?, ?)",
            (cid, name, value),
        )
