"""The response cache: which questions may reuse an earlier answer, and under what key.

Owns `cache_key` (a pure function: question, system prompt and model to an opaque key)
and `AnswerCache`, which reads and writes answers through an `AnswerCacheStore` with a TTL.

Only first turns are cached: a question asked with nothing remembered and no summary.
A follow-up ("and in French?", "why?") means something only in its conversation, so the
same words in another conversation need a different answer; deciding that a question is a
first turn is the caller's job (the answer job), since only it sees the conversation.
Within a first turn the answer still depends on who is asked and how, so the system prompt
and the model are part of the key, and the question is compared after normalisation
(case, Unicode compatibility forms, punctuation, whitespace).

Keys are sha256 hex digests, so no user text is stored in a key. The answer itself is
stored (it is what gets reused) and is forgotten when its TTL passes.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Callable

from gptbot.store import AnswerCacheStore

# Part of every key: change it whenever `normalise_question` changes meaning, so answers
# cached under the old rules are never found under the new ones.
KEY_VERSION = "answer-cache/1"


def normalise_question(question: str) -> str:
    """Fold case and compatibility forms, replace punctuation with spaces, collapse spaces.

    Punctuation becomes a space rather than vanishing, so "1.5" and "15" stay apart.
    Case is folded via upper case first, so a dotless i (U+0131) folds like its capital "I".
    """
    text = unicodedata.normalize("NFKC", question)
    text = unicodedata.normalize("NFKC", text.upper().casefold())
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def cache_key(question: str, system_prompt: str, model: str) -> str | None:
    """The key for a first-turn question; None when nothing is left after normalising."""
    normalised = normalise_question(question)
    if not normalised:
        return None
    material = json.dumps([KEY_VERSION, model, system_prompt, normalised])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class AnswerCache:
    """First-turn answers, reused for `ttl` seconds; `ttl == 0` turns the cache off."""

    def __init__(
        self, store: AnswerCacheStore, ttl: int, clock: Callable[[], float] = time.time
    ) -> None:
        if ttl < 0:
            raise ValueError(f"the answer cache needs ttl >= 0, not {ttl!r}")
        self._store = store
        self._ttl = ttl
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def lookup(self, question: str, system: str, model: str) -> str | None:
        """The cached answer to this first-turn question, or None (also when off)."""
        key = cache_key(question, system, model) if self.enabled else None
        return self._store.get(key, self._clock()) if key else None

    def remember(self, question: str, system: str, model: str, answer: str) -> None:
        """Keep a first-turn answer for `ttl` seconds; empty answers are never kept."""
        key = cache_key(question, system, model) if self.enabled else None
        if key is None or not answer.strip():
            return
        now = self._clock()
        self._store.put(key, answer, now + self._ttl, now)
