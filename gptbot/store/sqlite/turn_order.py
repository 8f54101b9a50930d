"""The questions of each conversation in the order they were asked, in SQLite."""

from __future__ import annotations

from gptbot.store.sqlite.db import SqliteDb


class SqliteTurnOrder:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def join_turn(self, conversation: str, key: str, asked_at: float) -> None:
        self._db.execute("INSERT OR IGNORE INTO turn_order (conversation, key, asked_at) "
                         "VALUES (?, ?, ?)", (conversation, key, asked_at))

    def turns_ahead(self, conversation: str, key: str) -> list[str]:
        with self._db.transaction("DEFERRED") as conn:
            rows = conn.execute(
                "SELECT o.key FROM turn_order o JOIN turn_order me "
                "ON me.conversation = o.conversation AND me.key = ? "
                "WHERE o.conversation = ? AND (o.asked_at < me.asked_at "
                "OR (o.asked_at = me.asked_at AND o.key < me.key)) ORDER BY o.asked_at, o.key",
                (key, conversation)).fetchall()
        return [found for (found,) in rows]

    def leave_turn(self, conversation: str, key: str) -> None:
        self._db.execute("DELETE FROM turn_order WHERE conversation = ? AND key = ?",
                         (conversation, key))

    def prune_turn_order(self, before: float) -> int:
        return int(self._db.execute("DELETE FROM turn_order WHERE asked_at < ?",
                                    (before,)).rowcount)
