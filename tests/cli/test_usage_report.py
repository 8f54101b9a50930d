"""`gptbot usage`: the operator's report, read from the ledger of the configured store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gptbot.cli.main import main
from gptbot.store import open_stores
from gptbot.store.ledger import LedgerRow

DAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


def row(user: str, cost: float | None, at: float = DAY, purpose: str = "answer") -> LedgerRow:
    return LedgerRow(at, f"gpt-{user}", user, "messaging:general", purpose, "openai",
                     "gpt-4o-mini", 1000, 400, 0, 200, 0, False, cost, 0.4, 1.2, "ok")


@pytest.fixture
def ledger_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAM_API_KEY", "k")
    monkeypatch.setenv("STREAM_API_SECRET", "s")
    monkeypatch.setenv("GPTBOT_DATA_DIR", str(tmp_path))
    stores = open_stores(f"sqlite:///{tmp_path / 'gptbot.db'}")
    for entry in (row("alice", 0.25), row("alice", 0.5, purpose="tool_round"),
                  row("bob", None), row("carol", 1.0, at=DAY + 86400)):
        stores.ledger.record(entry)
    stores.close()


def test_json_is_one_object_with_totals_and_rows(ledger_env, capsys):
    assert main(["usage", "--since", "2026-11-30", "--until", "2026-12-01",
                 "--by", "user", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"] == {
        "questions": 2, "handoffs": 0, "calls": 3, "input_tokens": 3000, "thumbs_up": 0,
        "thumbs_down": 0, "satisfaction": None,
        "cached_input_tokens": 1200, "output_tokens": 600, "reasoning_tokens": 0,
        "cost_usd": 0.75, "unpriced_calls": 1, "estimated_calls": 0,
    }
    assert [(r["key"], r["cost_usd"]) for r in report["rows"]] == [("alice", 0.75), ("bob", 0.0)]


def test_table_warns_about_unpriced_calls(ledger_env, capsys):
    assert main(["usage", "--since", "2026-11-01", "--until", "2026-12-02"]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out and "unpriced" in out


def test_a_bad_date_is_a_clear_error(ledger_env, capsys):
    assert main(["usage", "--since", "yesterday"]) == 2
    assert "--since/--until" in capsys.readouterr().err
