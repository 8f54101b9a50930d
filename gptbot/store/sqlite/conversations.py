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
        pairs = [(conversation, turn_id) for turn_id in turn_ids]
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO summary_users (conversation, user_id) "
                "SELECT conversation, user_id FROM turns WHERE conversation = ? AND id = ?",
                pairs,
            )
            conn.executemany(
                "DELETE FROM turns WHERE conversation = ? AND id = ?", pairs
            )
            conn.execute(
                "INSERT OR REPLACE INTO summaries (conversation, summary) VALUES (?, ?)",
                (conversation, summary),
            )

    def forget_conversation(self, conversation: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))
            conn.execute("DELETE FROM summaries WHERE conversation = ?", (conversation,))
            conn.execute("DELETE FROM summary_users WHERE conversation = ?", (conversation,))

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
            conn.executemany(
                "DELETE FROM summary_users WHERE conversation = ? "
                "AND NOT EXISTS (SELECT 1 FROM summaries WHERE conversation = ?)",
                [(key, key) for (key,) in touched],
            )
        return count

    def forget_user(self, user_id: str) -> int:
        """Their turns, and every summary made from any of them (it mixes in others' words,
        so it goes whole)."""
        with self._db.transaction() as conn:
            for table in ("summaries", "summary_users"):
                conn.execute(
                    f"DELETE FROM {table} WHERE conversation IN "
                    "(SELECT conversation FROM summary_users WHERE user_id = ?)", (user_id,)
                )
            return int(conn.execute("DELETE FROM turns WHERE user_id = ?", (user_id,)).rowcount)
