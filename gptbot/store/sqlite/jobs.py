"""Jobs and stop requests in SQLite."""

from __future__ import annotations

import json
from typing import Any

from gptbot.store.jobs import (
    DONE,
    DONE_RETENTION_S,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    JobRecord,
)
from gptbot.store.sqlite.db import SqliteDb


class SqliteJobs:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def claim_job(self, key: str, payload: dict[str, Any], now: float) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO jobs (key, payload, state, updated_at) VALUES (?, ?, ?, ?)",
            (key, json.dumps(payload), QUEUED, now),
        )
        return cursor.rowcount == 1

    def release_job(self, key: str) -> None:
        self._db.execute("DELETE FROM jobs WHERE key = ?", (key,))

    def start_job(self, key: str, now: float, lease_s: float) -> bool:
        cursor = self._db.execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE key = ? AND "
            "(state = ? OR (state = ? AND updated_at < ?))",
            (RUNNING, now, key, QUEUED, RUNNING, now - lease_s),
        )
        return cursor.rowcount == 1

    def heartbeat_job(self, key: str, now: float) -> None:
        self._db.execute(
            "UPDATE jobs SET updated_at = ? WHERE key = ? AND state = ?", (now, key, RUNNING)
        )

    def finish_job(self, key: str, now: float) -> None:
        self._db.execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE key = ?", (DONE, now, key)
        )
        # Forget long-finished jobs here, in the worker, not in the webhook's 1 s budget.
        self._db.execute(
            "DELETE FROM jobs WHERE state = ? AND updated_at < ?", (DONE, now - DONE_RETENTION_S)
        )

    def requeue_job(self, key: str, now: float) -> None:
        self._db.execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE key = ? AND state != ?",
            (QUEUED, now, key, DONE),
        )

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        rows = self._db.execute(
            "SELECT key, payload, state, updated_at FROM jobs WHERE "
            "(state = ? AND updated_at < ?) OR (state = ? AND updated_at < ?)",
            (RUNNING, now - lease_s, QUEUED, now - queued_grace_s),
        ).fetchall()
        return [JobRecord(key, json.loads(payload), state, at) for key, payload, state, at in rows]

    def request_stop(self, scope: str, now: float) -> None:
        self._db.execute("DELETE FROM stops WHERE at < ?", (now - STOP_RETENTION_S,))
        self._db.execute("INSERT OR REPLACE INTO stops (scope, at) VALUES (?, ?)", (scope, now))

    def stop_requested(self, scopes: list[str], since: float) -> bool:
        if not scopes:
            return False
        marks = ", ".join("?" * len(scopes))
        row = self._db.execute(
            f"SELECT MAX(at) FROM stops WHERE scope IN ({marks})", tuple(scopes)
        ).fetchone()
        return row[0] is not None and row[0] >= since
