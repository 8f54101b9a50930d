"""Counters, once-marks and token buckets in SQLite (tables `counters` and `buckets`).

Every operation is one statement or one BEGIN IMMEDIATE transaction: the write lock is
taken before the first read, so processes sharing the file never interleave a check and
its write.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from gptbot.store.limits import Charge, check_charges, check_count, check_rate, take_from
from gptbot.store.sqlite.db import SqliteDb

# An expired row counts as 0 and its old expiry is replaced, exactly like a missing one.
_ADJUST = """
INSERT INTO counters (key, value, expires_at) VALUES (?1, max(0, ?2), ?3)
ON CONFLICT (key) DO UPDATE SET
    value = max(0, (CASE WHEN counters.expires_at <= ?4 THEN 0 ELSE counters.value END) + ?2),
    expires_at = excluded.expires_at
"""
# Only a missing or expired mark is (re)written, so rowcount says who came first.
_MARK = """
INSERT INTO counters (key, value, expires_at) VALUES (?1, 1, ?2)
ON CONFLICT (key) DO UPDATE SET value = 1, expires_at = excluded.expires_at
WHERE counters.expires_at <= ?3
"""
# A hold only ever moves the bucket's restart later.
_HOLD = """
INSERT INTO buckets (name, tokens, at) VALUES (?1, 1.0, ?2)
ON CONFLICT (name) DO UPDATE SET tokens = 1.0, at = excluded.at WHERE buckets.at < excluded.at
"""


class SqliteLimits:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def charge(self, charges: Sequence[Charge], now: float) -> Charge | None:
        check_charges(charges)
        with self._db.transaction() as conn:
            totals: dict[str, int] = {}
            for charge in charges:
                current = totals.get(charge.key)
                if current is None:
                    current = _live_value(conn, charge.key, now)
                if charge.limit and current + charge.amount > charge.limit:
                    return charge  # nothing written yet: the commit is empty
                totals[charge.key] = current + charge.amount
            conn.executemany(
                "INSERT OR REPLACE INTO counters (key, value, expires_at) VALUES (?, ?, ?)",
                [(c.key, totals[c.key], c.expires_at) for c in charges],
            )
        return None

    def adjust(self, key: str, delta: int, expires_at: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._db.execute(_ADJUST, (key, delta, expires_at, now))

    def counters(self, keys: Sequence[str], now: float) -> dict[str, int]:
        values = dict.fromkeys(keys, 0)
        if not values:
            return values
        marks = ", ".join("?" * len(values))
        rows = self._db.execute(
            f"SELECT key, value FROM counters WHERE key IN ({marks}) AND expires_at > ?",
            (*values, now),
        ).fetchall()
        values.update(rows)
        return values

    def mark_once(self, key: str, expires_at: float, now: float) -> bool:
        return self._db.execute(_MARK, (key, expires_at, now)).rowcount == 1

    def take_token(
        self, bucket: str, per_minute: int, now: float, burst: int = 0, count: int = 1
    ) -> float:
        check_rate(per_minute)
        check_count(count, per_minute, burst)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT tokens, at FROM buckets WHERE name = ?", (bucket,))
            wait, state = take_from(row.fetchone(), per_minute, now, burst, count)
            if state is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO buckets (name, tokens, at) VALUES (?, ?, ?)",
                    (bucket, *state),
                )
        return wait

    def hold_bucket(self, bucket: str, until: float) -> None:
        self._db.execute(_HOLD, (bucket, until))

    def prune_limits(self, now: float) -> int:
        return self._db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,)).rowcount


def _live_value(conn: sqlite3.Connection, key: str, now: float) -> int:
    row = conn.execute(
        "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, now)
    ).fetchone()
    return int(row[0]) if row else 0
