"""The audit log in SQLite: table `audit`, keyed by reply id, indexed on `at` and `user_id`."""

from __future__ import annotations

import json
from dataclasses import astuple, fields, replace
from typing import Any

from gptbot.store.audit import AuditQuery, AuditRecord
from gptbot.store.sqlite.db import SqliteDb

_COLUMNS = ", ".join(f.name for f in fields(AuditRecord))
_MARKS = ", ".join("?" * len(fields(AuditRecord)))


class SqliteAudit:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def record_audit(self, record: AuditRecord) -> None:
        values = (*astuple(record)[:-1], json.dumps(list(record.moderation)))
        self._db.execute(f"INSERT OR REPLACE INTO audit ({_COLUMNS}) VALUES ({_MARKS})", values)

    def audit_records(self, query: AuditQuery) -> list[AuditRecord]:
        sql = f"SELECT {_COLUMNS} FROM audit WHERE at >= ? AND at < ?"
        params: list[Any] = [query.since, query.until]
        if query.user_id is not None:
            sql, params = sql + " AND user_id = ?", [*params, query.user_id]
        if query.channel is not None:
            sql, params = sql + " AND channel = ?", [*params, query.channel]
        found = self._db.execute(sql + " ORDER BY at, rowid", tuple(params)).fetchall()
        return [_record(values) for values in found]

    def audit_record(self, reply_id: str) -> AuditRecord | None:
        found = self._db.execute(f"SELECT {_COLUMNS} FROM audit WHERE reply_id = ?",
                                 (reply_id,)).fetchone()
        return _record(found) if found else None

    def prune_audit(self, before: float) -> int:
        return self._db.execute("DELETE FROM audit WHERE at < ?", (before,)).rowcount

    def forget_user(self, user_id: str) -> int:
        return self._db.execute("DELETE FROM audit WHERE user_id = ?", (user_id,)).rowcount


def _record(values: tuple[Any, ...]) -> AuditRecord:
    record = AuditRecord(*values[:-1])
    return replace(record, moderation=tuple(json.loads(values[-1])))
