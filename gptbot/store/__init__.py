"""Durable state behind narrow contracts: SQLite by default, Redis for several machines.

Owns: one Protocol per contract (`jobs`, `conversations`, `settings`, `limits`, `ledger`,
`answers`, `audit`, `feedback`, `turn_order`), a SQLite and a Redis implementation of each, and
`open_stores`, which opens all of them on one URL. Each contract passes one test suite on
both backends (tests/store/).
May import: `gptbot.core` only (and the database drivers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gptbot.core.errors import ConfigError
from gptbot.store.answer_cache import AnswerCacheStore
from gptbot.store.audit import AuditQuery, AuditRecord, AuditStore
from gptbot.store.conversations import ConversationStore
from gptbot.store.feedback import FeedbackStore, Vote
from gptbot.store.jobs import JobRecord, JobStore
from gptbot.store.ledger import LedgerRow, LedgerStore
from gptbot.store.limits import Charge, LimitStore
from gptbot.store.settings import SettingsStore
from gptbot.store.turn_order import TurnOrderStore


@dataclass(frozen=True)
class Stores:
    """Every contract, opened on one database; `close` closes that database."""

    jobs: JobStore
    conversations: ConversationStore
    settings: SettingsStore
    limits: LimitStore
    ledger: LedgerStore
    answers: AnswerCacheStore
    audit: AuditStore
    feedback: FeedbackStore
    turn_order: TurnOrderStore
    close: Callable[[], None]


def open_stores(url: str) -> Stores:
    if url.startswith(("redis://", "rediss://", "unix://")):
        from gptbot.store.redis import open_redis

        return open_redis(url)
    if url.startswith("sqlite:///"):
        from gptbot.store.sqlite import open_sqlite

        return open_sqlite(url.removeprefix("sqlite:///"))
    raise ConfigError(f"GPTBOT_DATABASE_URL must start with sqlite:/// or redis://, not {url!r}")


__all__ = [
    "AnswerCacheStore", "AuditQuery", "AuditRecord", "AuditStore", "Charge", "ConversationStore",
    "FeedbackStore", "JobRecord", "JobStore", "LedgerRow", "LedgerStore", "LimitStore",
    "SettingsStore", "Stores", "TurnOrderStore", "Vote", "open_stores",
]
