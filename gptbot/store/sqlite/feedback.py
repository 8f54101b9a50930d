"""Votes on the bot's replies in SQLite: one row per (reply, person)."""

from __future__ import annotations

from dataclasses import astuple

from gptbot.store.feedback import Vote
from gptbot.store.sqlite.db import SqliteDb

COLUMNS = "at, reply_id, user_id, channel, vote, model, persona, cost_usd"


class SqliteFeedback:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def record_vote(self, vote: Vote) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO votes ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            astuple(vote))

    def withdraw_vote(self, reply_id: str, user_id: str, vote: int) -> bool:
        cursor = self._db.execute(
            "DELETE FROM votes WHERE reply_id = ? AND user_id = ? AND vote = ?",
            (reply_id, user_id, vote))
        return bool(cursor.rowcount)

    def votes(self, since: float, until: float) -> list[Vote]:
        with self._db.transaction("DEFERRED") as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM votes WHERE at >= ? AND at < ? "
                                "ORDER BY at, rowid", (since, until)).fetchall()
        return [Vote(*row) for row in rows]

    def prune_votes(self, before: float) -> int:
        return int(self._db.execute("DELETE FROM votes WHERE at < ?", (before,)).rowcount)

    def forget_voter(self, user_id: str) -> int:
        return int(self._db.execute("DELETE FROM votes WHERE user_id = ?", (user_id,)).rowcount)
