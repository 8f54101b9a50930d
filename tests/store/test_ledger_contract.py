"""The ledger contract on both backends: rows come back exactly as recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gptbot.store import LedgerRow, Stores
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from tests.support.fakes import redis_client, unique_redis_prefix

T = 1_900_000_000.0


@pytest.fixture(params=["sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path) -> Iterator[Stores]:
    if request.param == "sqlite":
        opened = open_sqlite(tmp_path / "ledger.db")
        yield opened
        opened.close()
        return
    for prefix in unique_redis_prefix():  # deletes the prefix's keys when resumed
        opened = redis_stores(redis_client(), prefix=prefix)
        yield opened
        opened.close()


def call(at: float, **changes) -> LedgerRow:
    row = LedgerRow(
        at=at, reply_id="gpt-1", user_id="alice", channel="messaging:general",
        purpose="answer", provider="openai", model="gpt-4o-mini", input_tokens=1200,
        cached_input_tokens=1024, cache_write_tokens=0, output_tokens=350,
        reasoning_tokens=128, estimated=False, cost_usd=0.000_393_6, first_token_s=0.412_5,
        total_s=3.141_592_653_589_793, outcome="ok",
    )
    return replace(row, **changes)


def test_a_row_comes_back_equal_field_for_field(stores):
    row = call(T + 0.123_456_7)
    stores.ledger.record(row)
    [back] = stores.ledger.rows(T, T + 1)
    assert back == row
    assert (type(back.at), type(back.estimated), type(back.cost_usd)) == (float, bool, float)


def test_unpriced_estimated_and_failed_calls_keep_their_nones(stores):
    row = call(T, estimated=True, cost_usd=None, first_token_s=None, outcome="error:timeout",
               purpose="tool_round", output_tokens=0, reasoning_tokens=0)
    stores.ledger.record(row)
    [back] = stores.ledger.rows(T, T + 1)
    assert back == row
    assert back.cost_usd is None and back.first_token_s is None and back.estimated is True


def test_text_is_kept_exactly(stores):
    row = call(T, user_id='ålice "quoted" \\ ✓', model="claude-3.5|sonnet", channel="team:x:y")
    stores.ledger.record(row)
    assert stores.ledger.rows(T, T + 1) == [row]


def test_rows_is_half_open_and_oldest_first(stores):
    for at in (T + 30, T + 10, T + 20, T + 40, T + 9.5):
        stores.ledger.record(call(at, reply_id=f"r{at - T}"))
    got = stores.ledger.rows(T + 10, T + 40)
    assert [r.at - T for r in got] == [10, 20, 30]
    assert [r.at - T for r in stores.ledger.rows(T, T + 100)] == [9.5, 10, 20, 30, 40]
    assert stores.ledger.rows(T + 40, T + 40) == []


def test_identical_rows_are_all_kept_in_recording_order(stores):
    first, second = call(T, reply_id="b"), call(T, reply_id="a")
    for row in (first, first, second, first):
        stores.ledger.record(row)
    assert stores.ledger.rows(T, T + 1) == [first, first, second, first]


def test_prune_deletes_rows_before_a_time_and_counts_them(stores):
    for at in (T + 1, T + 1, T + 2, T + 3):
        stores.ledger.record(call(at))
    assert stores.ledger.prune_ledger(before=T + 3) == 3
    assert stores.ledger.prune_ledger(before=T + 3) == 0
    assert stores.ledger.rows(T, T + 10) == [call(T + 3)]


def test_an_empty_ledger_has_no_rows(stores):
    assert stores.ledger.rows(0, T * 2) == []
    assert stores.ledger.prune_ledger(before=T * 2) == 0


def test_reply_rows_are_that_replys_since_a_time_in_recording_order(stores):
    ledger = stores.ledger
    ledger.record(call(T - 10, reply_id="gpt-1", model="too-early"))
    ledger.record(call(T + 2, reply_id="gpt-1", model="second"))
    ledger.record(call(T + 1, reply_id="gpt-2", model="other reply"))
    ledger.record(call(T + 1, reply_id="gpt-1", model="first"))
    ledger.record(call(T + 2, reply_id="gpt-1", model="third"))
    assert [row.model for row in ledger.reply_rows("gpt-1", T)] == ["first", "second", "third"]
    assert [row.model for row in ledger.reply_rows("gpt-2", T)] == ["other reply"]
    assert ledger.reply_rows("gpt-3", T) == []
