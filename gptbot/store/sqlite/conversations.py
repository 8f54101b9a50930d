"""Conversation turns and summaries in SQLite."""

from __future__ import annotations

from gptbot.core.types import Conversation, Turn
from gptbot.store.sqlite.db import SqliteDb


class SqliteConversations:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def add_turn(self, conversation: str, turn: Turn) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO turns (conversation, id, asked_at, user_id, user_name, "
            "question, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conversation,
                turn.id,
                turn.asked_at,
                turn.user_id,
                turn.user_name,
                turn.question,
                turn.answer,
            ),
        )

    def load_conversation(self, conversation: str) -> Conversation:
        with self._db.transaction("DEFERRED") as conn:  # a concurrent fold is all or nothing
            row = conn.execute(
                "SELECT summary FROM summaries WHERE conversation = ?", (conversation,)
            ).fetchone()
            rows = conn.execute(
                "SELECT id, asked_at, user_id, user_name, question, answer FROM turns "
                "WHERE conversation = ? ORDER BY asked_at, rowid",
                (conversation,),
            ).fetchall()
        return Conversation(row[0] if row else "", [Turn(*r) for r in rows])

    def fold_conversation(self, conversation: str, turn_ids: list[str], summary: str) -> None:
        with self._db.transaction() as conn:
            conn.executemany(
                "DELETE FROM turns WHERE conversation = ? AND id = ?",
                [(conversation, turn_id) for turn_id in turn_ids],
            )
            conn.execute(
                "INSERT OR REPLACE INTO summaries (conversation, summary) VALUES (?, ?)",
                (conversation, summary),
            )

    def forget_conversation(self, conversation: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))
            conn.execute("DELETE FROM summaries WHERE conversation = ?", (conversation,))

    def prune_turns(self, before: float) -> int:
        with self._db.transaction() as conn:
            touched = conn.execute(
                "SELECT DISTINCT conversation FROM turns WHERE asked_at < ?", (before,)
            ).fetchall()
            count = conn.execute("DELETE FROM turns WHERE asked_at < ?", (before,)).rowcount
            conn.executemany(
                "DELETE FROM summaries WHERE conversation = ? "
                "AND NOT EXISTS (SELECT 1 FROM turns WHERE conversation = ?)",
                [(key, key) for (key,) in touched],
            )
        return count

    def forget_user(self, user_id: str) -> int:
        return self._db.execute("DELETE FROM turns WHERE user_id = ?", (user_id,)).rowcount
