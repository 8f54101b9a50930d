"""Jobs and stop requests in SQLite: every state change is one conditional UPDATE."""

from __future__ import annotations

import json
from typing import Any

from gptbot.store.jobs import (
    DONE,
    DONE_RETENTION_S,
    ENDED,
    FAILED,
    QUEUED,
    RUNNING,
    STOP_RETENTION_S,
    JobRecord,
    check_ended,
)
from gptbot.store.sqlite.db import SqliteDb

COLUMNS = "key, payload, state, updated_at, attempts, reason, owner"
ENDED_MARKS = ", ".join("?" * len(ENDED))
# `? = 0 OR attempts = ?`: fenced by the attempt when one is given.
OF_ATTEMPT = "(? = 0 OR attempts = ?)"


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

    def start_job(self, key: str, now: float, lease_s: float, owner: str = "") -> int:
        with self._db.transaction() as conn:
            rows = conn.execute(
                "UPDATE jobs SET state = ?, updated_at = ?, attempts = attempts + 1, owner = ? "
                "WHERE key = ? AND (state = ? OR (state = ? AND updated_at < ?)) "
                "RETURNING attempts",
                (RUNNING, now, owner, key, QUEUED, RUNNING, now - lease_s),
            ).fetchall()
        return int(rows[0][0]) if rows else 0

    def heartbeat_job(self, key: str, now: float, attempt: int = 0) -> bool:
        cursor = self._db.execute(
            f"UPDATE jobs SET updated_at = ? WHERE key = ? AND state = ? AND {OF_ATTEMPT}",
            (now, key, RUNNING, attempt, attempt),
        )
        return cursor.rowcount == 1

    def finish_job(self, key: str, now: float, state: str = DONE, reason: str = "") -> None:
        self._db.execute(
            "UPDATE jobs SET state = ?, updated_at = ?, owner = '', "
            "reason = CASE WHEN ? = '' THEN reason ELSE ? END WHERE key = ?",
            (check_ended(state), now, reason, reason, key),
        )
        # Forget long-ended jobs here, in the worker, not in the webhook's 1 s budget.
        self._db.execute(
            f"DELETE FROM jobs WHERE state IN ({ENDED_MARKS}) AND updated_at < ?",
            (*ENDED, now - DONE_RETENTION_S),
        )

    def fail_job(self, key: str, reason: str, now: float) -> None:
        self.finish_job(key, now, FAILED, reason)

    def retry_job(self, key: str, reason: str, now: float) -> None:
        self._db.execute(
            "UPDATE jobs SET updated_at = ?, reason = ? WHERE key = ? AND state = ?",
            (now, reason, key, RUNNING),
        )

    def requeue_job(self, key: str, now: float, attempt: int = 0, reason: str = "") -> bool:
        cursor = self._db.execute(
            "UPDATE jobs SET state = ?, updated_at = ?, owner = '', "
            "reason = CASE WHEN ? = '' THEN reason ELSE ? END "
            f"WHERE key = ? AND state IN (?, ?) AND {OF_ATTEMPT}",
            (QUEUED, now, reason, reason, key, QUEUED, RUNNING, attempt, attempt),
        )
        return cursor.rowcount == 1

    def stale_jobs(self, now: float, lease_s: float, queued_grace_s: float) -> list[JobRecord]:
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM jobs WHERE "
            "(state = ? AND updated_at < ?) OR (state = ? AND updated_at < ?)",
            (RUNNING, now - lease_s, QUEUED, now - queued_grace_s),
        ).fetchall()
        return [_record(row) for row in rows]

    def job(self, key: str) -> JobRecord | None:
        row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def jobs(self, state: str | None = None, limit: int = 50) -> list[JobRecord]:
        where, params = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM jobs {where} ORDER BY updated_at DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_record(row) for row in rows]

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


def _record(row: tuple[Any, ...]) -> JobRecord:
    key, payload, state, at, attempts, reason, owner = row
    return JobRecord(key, json.loads(payload), state, at, attempts, reason, owner)
