"""Cached answers in SQLite (table `answers`): expiry is checked on read, rows are
removed by `prune_answers`."""

from __future__ import annotations

from gptbot.store.sqlite.db import SqliteDb


class SqliteAnswers:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def get(self, key: str, now: float) -> str | None:
        row = self._db.execute(
            "SELECT answer FROM answers WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return str(row[0]) if row else None

    def put(self, key: str, answer: str, expires_at: float, now: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO answers (key, answer, expires_at) VALUES (?, ?, ?)",
            (key, answer, expires_at),
        )

    def prune_answers(self, now: float) -> int:
        return self._db.execute("DELETE FROM answers WHERE expires_at <= ?", (now,)).rowcount
