"""What is particular to each backend: reopening, schema upgrades, many processes at once."""

from __future__ import annotations

from gptbot.core.types import Conversation
from gptbot.store import open_stores
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from tests.store.turns import turn
from tests.support.fakes import redis_client


def test_sqlite_state_survives_reopening(tmp_path):
    first = open_stores(f"sqlite:///{tmp_path / 'db' / 'g.db'}")
    first.jobs.claim_job("k", {"x": 1}, now=1.0)
    first.close()
    second = open_stores(f"sqlite:///{tmp_path / 'db' / 'g.db'}")
    assert not second.jobs.claim_job("k", {"x": 1}, now=2.0)
    second.close()


def test_sqlite_history_survives_reopening(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    first = open_stores(url)
    first.conversations.add_turn("messaging:general", turn(1))
    first.conversations.fold_conversation("messaging:general", [], "the story so far")
    first.settings.set_channel_setting("messaging:general", "persona", "tutor")
    first.close()
    second = open_stores(url)
    assert second.conversations.load_conversation("messaging:general") == Conversation(
        "the story so far", [turn(1)]
    )
    assert second.settings.channel_settings("messaging:general") == {"persona": "tutor"}
    second.close()


def test_redis_history_survives_a_new_connection(redis_prefix):
    first = redis_stores(redis_client(), prefix=redis_prefix)
    first.conversations.add_turn("messaging:general", turn(1))
    first.conversations.fold_conversation("messaging:general", [], "the story so far")
    first.close()
    second = redis_stores(redis_client(), prefix=redis_prefix)
    assert second.conversations.load_conversation("messaging:general") == Conversation(
        "the story so far", [turn(1)]
    )
    second.close()


def test_sqlite_upgrades_a_version_1_database(tmp_path):
    import sqlite3

    from gptbot.store.sqlite.migrations import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO jobs VALUES ('k', '{}', 'done', 1.0)")
    conn.commit()
    conn.close()
    stores = open_sqlite(tmp_path / "old.db")
    assert not stores.jobs.claim_job("k", {}, now=2.0)  # old data kept
    stores.conversations.add_turn("c", turn(1))
    assert stores.conversations.load_conversation("c").turns == [turn(1)]
    stores.close()


def test_many_processes_can_open_a_new_sqlite_file_at_once(tmp_path):
    """gunicorn's workers all open the database on a first start, at the same moment."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    path, count = str(tmp_path / "fresh" / "gptbot.db"), 12
    start, results = context.Barrier(count), context.Queue()
    workers = [context.Process(target=_open_and_claim, args=(path, f"k{i}", start, results))
               for i in range(count)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["claimed"] * count


def _open_and_claim(path: str, key: str, start, results) -> None:
    start.wait()
    try:
        stores = open_sqlite(path)
        results.put("claimed" if stores.jobs.claim_job(key, {}, now=1.0) else "refused")
        stores.close()
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
