"""SQLite backend: one file, WAL mode, safe across the processes of one machine."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gptbot.store.base import (
    DONE,
    DONE_RETENTION_S,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    Conversation,
    JobRecord,
    Turn,
)

# Append only: each entry upgrades the schema by one version (PRAGMA user_version).
MIGRATIONS: list[str] = [
    """
    CREATE TABLE jobs (
        key TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_state_updated ON jobs (state, updated_at);
    """,
    """
    CREATE TABLE turns (
        conversation TEXT NOT NULL,
        id TEXT NOT NULL,
        asked_at REAL NOT NULL,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        PRIMARY KEY (conversation, id)
    );
    CREATE INDEX turns_order ON turns (conversation, asked_at);
    CREATE TABLE summaries (conversation TEXT PRIMARY KEY, summary TEXT NOT NULL);
    CREATE TABLE channel_settings (
        cid TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (cid, name)
    );
    CREATE TABLE stops (scope TEXT PRIMARY KEY, at REAL NOT NULL);
    """,
]


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            path, timeout=10, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._use_wal()
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _use_wal(self, timeout: float = 10.0) -> None:
        """Several processes opening a new file at once: switching it to WAL needs a write
        lock that SQLite's busy handler does not wait for, so wait here."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {number}")
            self._conn.execute("COMMIT")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """IMMEDIATE for writes; DEFERRED for reads (a WAL snapshot, no write lock)."""
        with self._lock:
            self._conn.execute(f"BEGIN {mode}")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        cursor = self._execute(
            "INSERT OR IGNORE INTO jobs (key, payload, state, updated_at) VALUES (?, ?, ?, ?)",
            (key, json.dumps(payload), QUEUED, now),
        )
        return cursor.rowcount == 1

    def release_job(self, key: str) -> None:
        self._execute("DELETE FROM jobs WHERE key = ?", (key,))

    def start_job(self, key: str, now: float, lease_s: float) -> bool:
        cursor = self._execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE key = ? AND "
            "(state = ? OR (state = ? AND updated_at < ?))",
            (RUNNING, now, key, QUEUED, RUNNING, now - lease_s),
        )
        return cursor.rowcount == 1

    def heartbeat_job(self, key: str, now: float) -> None:
        self._execute(
            "UPDATE jobs SET updated_at = ? WHERE key = ? AND state = ?", (now, key, RUNNING)
        )

    def finish_job(self, key: str, now: float) -> None:
        self._execute("UPDATE jobs SET state = ?, updated_at = ? WHERE key = ?", (DONE, now, key))
        # Forget long-finished jobs here, in the worker, not in the webhook's 1 s budget.
        self._execute(
            "DELETE FROM jobs WHERE state = ? AND updated_at < ?", (DONE, now - DONE_RETENTION_S)
        )

    def requeue_job(self, key: str, now: float) -> None:
        self._execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE key = ? AND state != ?",
            (QUEUED, now, key, DONE),
        )

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        rows = self._execute(
            "SELECT key, payload, state, updated_at FROM jobs WHERE "
            "(state = ? AND updated_at < ?) OR (state = ? AND updated_at < ?)",
            (RUNNING, now - lease_s, QUEUED, now - queued_grace_s),
        ).fetchall()
        return [JobRecord(key, json.loads(payload), state, at) for key, payload, state, at in rows]

    def add_turn(self, conversation: str, turn: Turn) -> None:
        self._execute(
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
        with self._transaction("DEFERRED") as conn:  # a concurrent fold is all or nothing
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
        with self._transaction() as conn:
            conn.executemany(
                "DELETE FROM turns WHERE conversation = ? AND id = ?",
                [(conversation, turn_id) for turn_id in turn_ids],
            )
            conn.execute(
                "INSERT OR REPLACE INTO summaries (conversation, summary) VALUES (?, ?)",
                (conversation, summary),
            )

    def forget_conversation(self, conversation: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))
            conn.execute("DELETE FROM summaries WHERE conversation = ?", (conversation,))

    def channel_settings(self, cid: str) -> dict[str, str]:
        rows = self._execute("SELECT name, value FROM channel_settings WHERE cid = ?", (cid,))
        return dict(rows.fetchall())

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        if value is None:
            self._execute("DELETE FROM channel_settings WHERE cid = ? AND name = ?", (cid, name))
            return
        self._execute(
            "INSERT OR REPLACE INTO channel_settings (cid, name, value) VALUES (?, ?, ?)",
            (cid, name, value),
        )

    def request_stop(self, scope: str, now: float) -> None:
        self._execute("DELETE FROM stops WHERE at < ?", (now - STOP_RETENTION_S,))
        self._execute("INSERT OR REPLACE INTO stops (scope, at) VALUES (?, ?)", (scope, now))

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        if not scopes:
            return False
        marks = ", ".join("?" * len(scopes))
        row = self._execute(
            f"SELECT MAX(at) FROM stops WHERE scope IN ({marks})", tuple(scopes)
        ).fetchone()
        return row[0] is not None and row[0] >= since

    def close(self) -> None:
        with self._lock:
            self._conn.close()
