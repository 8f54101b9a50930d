"""SQLite backend: one file, WAL mode, safe across the processes of one machine."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from gptbot.store.base import DONE, DONE_RETENTION_S, QUEUED, RUNNING, JobRecord

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
]


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                     isolation_level=None)
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

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

    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        self._execute("DELETE FROM jobs WHERE state = ? AND updated_at < ?",
                      (DONE, now - DONE_RETENTION_S))
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
        self._execute("UPDATE jobs SET updated_at = ? WHERE key = ? AND state = ?",
                      (now, key, RUNNING))

    def finish_job(self, key: str, now: float) -> None:
        self._execute("UPDATE jobs SET state = ?, updated_at = ? WHERE key = ?", (DONE, now, key))

    def requeue_job(self, key: str, now: float) -> None:
        self._execute("UPDATE jobs SET state = ?, updated_at = ? WHERE key = ? AND state != ?",
                      (QUEUED, now, key, DONE))

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        rows = self._execute(
            "SELECT key, payload, state, updated_at FROM jobs WHERE "
            "(state = ? AND updated_at < ?) OR (state = ? AND updated_at < ?)",
            (RUNNING, now - lease_s, QUEUED, now - queued_grace_s),
        ).fetchall()
        return [JobRecord(key, json.loads(payload), state, at) for key, payload, state, at in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
