"""The SQLite implementation of every store contract, sharing one database file."""

from __future__ import annotations

from pathlib import Path

from gptbot.store import Stores
from gptbot.store.sqlite.answer_cache import SqliteAnswers
from gptbot.store.sqlite.audit import SqliteAudit
from gptbot.store.sqlite.conversations import SqliteConversations
from gptbot.store.sqlite.db import SqliteDb
from gptbot.store.sqlite.feedback import SqliteFeedback
from gptbot.store.sqlite.jobs import SqliteJobs
from gptbot.store.sqlite.ledger import SqliteLedger
from gptbot.store.sqlite.limits import SqliteLimits
from gptbot.store.sqlite.settings import SqliteSettings
from gptbot.store.sqlite.turn_order import SqliteTurnOrder


def open_sqlite(path: str | Path) -> Stores:
    db = SqliteDb(path)
    return Stores(
        jobs=SqliteJobs(db), conversations=SqliteConversations(db), settings=SqliteSettings(db),
        limits=SqliteLimits(db), ledger=SqliteLedger(db), answers=SqliteAnswers(db),
        audit=SqliteAudit(db), feedback=SqliteFeedback(db), turn_order=SqliteTurnOrder(db),
        close=db.close,
    )
