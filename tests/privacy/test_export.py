"""`gptbot export`: audit records out as JSON lines, and back equal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gptbot.cli.main import main
from gptbot.store import AuditRecord, open_stores
from tests.store.test_audit_contract import audit

DAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
KEPT = [
    audit(1, DAY - 86400),
    audit(2, DAY, user_id="bob", cost_usd=None, outcome="failed", answer=""),
    audit(3, DAY + 0.25, channel="messaging:random", question='ünïcode "q"\n✓',
          moderation=("ok",)),
    audit(4, DAY + 86400, outcome="cached", cost_usd=0.0),
]


@pytest.fixture(autouse=True)
def audit_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAM_API_KEY", "k")
    monkeypatch.setenv("STREAM_API_SECRET", "s")
    monkeypatch.setenv("GPTBOT_DATA_DIR", str(tmp_path))
    stores = open_stores(f"sqlite:///{tmp_path / 'gptbot.db'}")
    for record in KEPT:
        stores.audit.record_audit(record)
    stores.close()


def exported(capsys, *args: str) -> list[AuditRecord]:
    assert main(["export", *args]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") or out == ""
    objects = [json.loads(line) for line in out.splitlines()]
    return [AuditRecord(**{**o, "moderation": tuple(o["moderation"])}) for o in objects]


def test_the_round_trip_gives_every_record_back_equal(capsys):
    assert exported(capsys) == KEPT


def test_each_line_is_one_object_with_every_field(capsys):
    main(["export", "--user", "bob"])
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "at": DAY, "reply_id": "gpt-2", "user_id": "bob", "channel": "messaging:general",
        "question": "question 2", "answer": "", "model": "gpt-4o-mini", "input_tokens": 1200,
        "output_tokens": 350, "cost_usd": None, "outcome": "failed", "moderation": [],
    }


def test_dates_user_and_channel_filter(capsys):
    assert exported(capsys, "--since", "2026-11-30", "--until", "2026-12-01") == KEPT[1:3]
    assert exported(capsys, "--since", "2026-11-30") == KEPT[1:]
    assert exported(capsys, "--until", "2026-11-30") == KEPT[:1]
    assert exported(capsys, "--user", "alice", "--channel", "messaging:general") == \
        [KEPT[0], KEPT[3]]
    assert exported(capsys, "--user", "nobody") == []


def test_local_dates_follow_the_configured_timezone(capsys, monkeypatch):
    monkeypatch.setenv("GPTBOT_TIMEZONE", "Pacific/Auckland")  # UTC+13 on 30 November
    # 2026-12-01 in Auckland starts at 11:00 UTC on 30 November: DAY (12:00 UTC) is in it.
    assert exported(capsys, "--since", "2026-12-01", "--until", "2026-12-02") == KEPT[1:3]


def test_a_bad_date_is_a_clear_error(capsys):
    assert main(["export", "--since", "30/11/2026"]) == 2
    assert "--since/--until" in capsys.readouterr().err


def test_an_empty_log_prints_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GPTBOT_DATA_DIR", str(tmp_path / "empty"))
    assert exported(capsys) == []
