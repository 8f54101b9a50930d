"""The answer-cache contract: reusable answers by opaque key, each with its own expiry.

Owns the `AnswerCacheStore` definition and the semantics both backends share. Keys are
opaque (the conversation layer hashes them), so no user text is stored in a key.
An answer is live while `now < expires_at`; at or after that it reads as absent (None)
and is forgotten by `prune_answers`. Every time is the caller's `now`, never a database
clock, so every process (and every test's fake clock) judges expiry alike.
"""

from __future__ import annotations

from typing import Protocol


class AnswerCacheStore(Protocol):
    def get(self, key: str, now: float) -> str | None:
        """The answer stored under `key`, or None when there is none or it has expired."""

    def put(self, key: str, answer: str, expires_at: float, now: float) -> None:
        """Store `answer` under `key` until `expires_at`, replacing any earlier answer (an
        `expires_at` at or before `now` leaves an expired entry: it reads as absent)."""

    def prune_answers(self, now: float) -> int:
        """Forget expired answers; returns how many."""
