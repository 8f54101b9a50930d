"""The usage ledger in SQLite: table `ledger`, indexed on `at`."""

from __future__ import annotations

from dataclasses import astuple, fields, replace
from typing import Any

from gptbot.store.ledger import FORGOTTEN, LedgerRow
from gptbot.store.sqlite.db import SqliteDb

_COLUMNS = ", ".join(f.name for f in fields(LedgerRow))
_MARKS = ", ".join("?" * len(fields(LedgerRow)))


class SqliteLedger:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    def record(self, row: LedgerRow) -> None:
        self._db.execute(f"INSERT INTO ledger ({_COLUMNS}) VALUES ({_MARKS})", astuple(row))

    def rows(self, since: float, until: float) -> list[LedgerRow]:
        found = self._db.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE at >= ? AND at < ? ORDER BY at, id",
            (since, until),
        ).fetchall()
        return [_row(values) for values in found]

    def reply_rows(self, reply_id: str, since: float) -> list[LedgerRow]:
        found = self._db.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE reply_id = ? AND at >= ? ORDER BY at, id",
            (reply_id, since),
        ).fetchall()
        return [_row(values) for values in found]

    def prune_ledger(self, before: float) -> int:
        return self._db.execute("DELETE FROM ledger WHERE at < ?", (before,)).rowcount

    def anonymise_user(self, user_id: str) -> int:
        return self._db.execute(
            "UPDATE ledger SET user_id = ? WHERE user_id = ?", (FORGOTTEN, user_id)
        ).rowcount


def _row(values: tuple[Any, ...]) -> LedgerRow:
    row = LedgerRow(*values)
    # SQLite has no boolean type: `estimated` comes back as 0 or 1.
    return replace(row, estimated=bool(row.estimated))
