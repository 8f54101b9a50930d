"""Transcripts kept by (message id, content hash): a retried job does not transcribe the
same recording twice, and history and memory get text for a message that had none.

The hash is of the downloaded bytes, since a recording's signed URL changes whenever Stream
re-signs it. Two stores: in memory (tests, one process) and a small SQLite file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

MAX_ENTRIES = 10_000  # the in-memory cache forgets the oldest past this


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TranscriptCache(Protocol):
    def get(self, message_id: str, content_sha256: str) -> str | None: ...

    def put(self, message_id: str, content_sha256: str, transcript: str) -> None: ...

    def latest(self, message_id: str) -> str | None:
        """The newest transcript of any recording on the message (for history)."""
        ...


class MemoryTranscriptCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, message_id: str, content_sha256: str) -> str | None:
        with self._lock:
            return self._entries.get((message_id, content_sha256))

    def put(self, message_id: str, content_sha256: str, transcript: str) -> None:
        with self._lock:
            self._entries.pop((message_id, content_sha256), None)
            self._entries[(message_id, content_sha256)] = transcript
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def latest(self, message_id: str) -> str | None:
        with self._lock:
            found = [text for (mid, _), text in self._entries.items() if mid == message_id]
        return found[-1] if found else None


SCHEMA = """CREATE TABLE IF NOT EXISTS voice_transcripts (
    message_id TEXT NOT NULL, content_sha256 TEXT NOT NULL, transcript TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (message_id, content_sha256))"""


class SqliteTranscriptCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)

    def get(self, message_id: str, content_sha256: str) -> str | None:
        return self._one("SELECT transcript FROM voice_transcripts WHERE message_id = ? "
                         "AND content_sha256 = ?", (message_id, content_sha256))

    def put(self, message_id: str, content_sha256: str, transcript: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO voice_transcripts VALUES (?, ?, ?, ?)",
                             (message_id, content_sha256, transcript, time.time()))

    def latest(self, message_id: str) -> str | None:
        return self._one("SELECT transcript FROM voice_transcripts WHERE message_id = ? "
                         "ORDER BY created_at DESC, rowid DESC LIMIT 1", (message_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, params: tuple[str, ...]) -> str | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return str(row[0]) if row else None
