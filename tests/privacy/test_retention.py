"""GPTBOT_RETENTION_DAYS: the worker's hourly housekeeping deletes exactly the memory turns,
the summaries left without turns and the audit records older than that, on both stores."""

from __future__ import annotations

from dataclasses import replace

from gptbot.jobs.housekeeping import DAY_S, Housekeeping
from gptbot.store import AuditQuery
from tests.store.test_audit_contract import audit
from tests.store.turns import turn
from tests.support.fakes import FakeClock

NOW = 1_900_000_000.0


def aged(stores, days_old: list[float]) -> None:
    """A turn in its own conversation, with a summary, and an audit record, per age."""
    for n, days in enumerate(days_old):
        at = NOW - days * DAY_S
        stores.conversations.add_turn(f"c:{n}", turn(n, at))
        stores.conversations.fold_conversation(f"c:{n}", [], f"summary {n}")
        stores.audit.record_audit(audit(n, at))


def left(stores, count: int) -> tuple[list[int], list[int], list[int]]:
    convs = [stores.conversations.load_conversation(f"c:{n}") for n in range(count)]
    turns = [n for n, c in enumerate(convs) if c.turns]
    summaries = [n for n, c in enumerate(convs) if c.summary]
    records = [int(r.reply_id.removeprefix("gpt-"))
               for r in stores.audit.audit_records(AuditQuery())]
    return turns, summaries, records


def test_retention_deletes_exactly_the_old_rows(stores):
    ages = [45, 30.001, 29.999, 2, 0]  # days
    aged(stores, ages)
    clock = FakeClock()
    clock.now = NOW
    Housekeeping(stores, 400, clock=clock, retention_days=30)()
    assert left(stores, len(ages)) == ([2, 3, 4], [2, 3, 4], [2, 3, 4])


def test_it_runs_hourly_and_time_catches_up_with_the_rest(stores):
    aged(stores, [2, 0.5])
    clock = FakeClock()
    clock.now = NOW
    keeping = Housekeeping(stores, 400, clock=clock, retention_days=1)
    keeping()
    assert left(stores, 2) == ([1], [1], [1])
    for later, kept in ((DAY_S / 2 - 60, [1]), (DAY_S / 2 + 60, [1]), (DAY_S / 2 + 3600, [])):
        clock.now = NOW + later  # the second run is within the hour: skipped
        keeping()
        assert left(stores, 2) == (kept, kept, kept)


def test_the_ledger_keeps_its_own_period(stores):
    from tests.privacy.test_store_privacy import call

    stores.ledger.record(replace(call(1, "alice"), at=NOW - 45 * DAY_S))
    aged(stores, [45])
    clock = FakeClock()
    clock.now = NOW
    Housekeeping(stores, 400, clock=clock, retention_days=30)()
    assert left(stores, 1) == ([], [], [])
    assert len(stores.ledger.rows(0, NOW)) == 1


def test_without_a_retention_period_nothing_personal_is_pruned(stores):
    aged(stores, [900])
    clock = FakeClock()
    clock.now = NOW
    Housekeeping(stores, 400, clock=clock)()
    assert left(stores, 1) == ([0], [0], [0])
