"""Transcripts by (message id, content hash), in memory and in SQLite: one contract."""

from __future__ import annotations

import threading

import pytest

from gptbot.voice.cache import MemoryTranscriptCache, SqliteTranscriptCache, content_hash


@pytest.fixture(params=["memory", "sqlite"])
def cache(request, tmp_path):
    if request.param == "memory":
        yield MemoryTranscriptCache()
        return
    store = SqliteTranscriptCache(tmp_path / "voice" / "transcripts.db")
    yield store
    store.close()


def test_a_transcript_is_found_by_message_and_content(cache):
    digest = content_hash(b"audio")
    assert cache.get("m1", digest) is None
    cache.put("m1", digest, "what is the capital of france")
    assert cache.get("m1", digest) == "what is the capital of france"
    assert cache.get("m1", content_hash(b"other audio")) is None  # re-recorded: transcribe again
    assert cache.get("m2", digest) is None


def test_latest_gives_history_the_newest_transcript_of_a_message(cache):
    assert cache.latest("m1") is None
    cache.put("m1", content_hash(b"a"), "first")
    cache.put("m1", content_hash(b"b"), "second")
    cache.put("m2", content_hash(b"c"), "elsewhere")
    assert cache.latest("m1") == "second"


def test_putting_again_replaces(cache):
    cache.put("m1", "h", "old")
    cache.put("m1", "h", "new")
    assert cache.get("m1", "h") == "new" and cache.latest("m1") == "new"


def test_threads_may_share_it(cache):
    def write(n: int) -> None:
        for i in range(20):
            cache.put(f"m{n}", str(i), f"t{n}-{i}")
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(cache.get(f"m{n}", "19") == f"t{n}-19" for n in range(4))


def test_the_sqlite_cache_survives_a_restart(tmp_path):
    first = SqliteTranscriptCache(tmp_path / "t.db")
    first.put("m1", "h", "kept")
    first.close()
    again = SqliteTranscriptCache(tmp_path / "t.db")
    assert again.get("m1", "h") == "kept"
    again.close()


def test_the_memory_cache_forgets_the_oldest_past_its_size():
    cache = MemoryTranscriptCache(max_entries=2)
    for name in ("a", "b", "c"):
        cache.put(name, "h", name)
    assert cache.get("a", "h") is None and cache.get("c", "h") == "c"
