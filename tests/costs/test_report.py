"""The usage report: sums per group, the date flags and the three output formats.

Every expected number is added up by hand from the rows in ROWS (see the table there).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gptbot.costs.periods import Periods
from gptbot.costs.report import (
    FIELDS,
    Report,
    parse_date,
    render_csv,
    render_json,
    render_table,
    summarize,
)
from gptbot.store import Vote
from gptbot.store.feedback import DOWN, UP
from gptbot.store.ledger import LedgerRow

UTC_P = Periods(ZoneInfo("UTC"))
BERLIN = Periods(ZoneInfo("Europe/Berlin"))
KOLKATA = Periods(ZoneInfo("Asia/Kolkata"))


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, offset: float = 0) -> float:
    """Unix time of a wall-clock reading at a fixed UTC offset (hours)."""
    return datetime(y, mo, d, h, mi, s, tzinfo=timezone(timedelta(hours=offset))).timestamp()


BASE = LedgerRow(
    at=at(2026, 12, 1, 10), reply_id="r1", user_id="alice", channel="messaging:general",
    purpose="answer", provider="openai", model="gpt-4o", input_tokens=0, cached_input_tokens=0,
    cache_write_tokens=0, output_tokens=0, reasoning_tokens=0, estimated=False, cost_usd=0.0,
    first_token_s=0.4, total_s=2.0, outcome="ok",
)  # fmt: skip


def row(**changes: object) -> LedgerRow:
    return replace(BASE, **changes)  # type: ignore[arg-type]


def call(when: float, user: str, channel: str, purpose: str, model: str,
         tokens: tuple[int, int, int, int], cost: float | None, estimated: bool = False,
         ) -> LedgerRow:  # fmt: skip
    """A row from one line of the table below; tokens are (input, cached, output, reasoning)."""
    provider, name = model.split("/")
    i, c, o, r = tokens
    return row(
        at=when, user_id=user, channel=channel, purpose=purpose, provider=provider, model=name,
        input_tokens=i, cached_input_tokens=c, output_tokens=o, reasoning_tokens=r,
        cost_usd=cost, estimated=estimated,
    )  # fmt: skip


def dec(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return at(2026, 12, day, hour, minute, second)


GENERAL, RANDOM = "messaging:general", "messaging:random"
# Row 3 is at 23:30 UTC on Dec 1, which is 00:30 on Dec 2 in Berlin. Tokens are
# (input, cached, output, reasoning); rows 5 and 7 are estimated.
# fmt: off
ROWS = [
    call(dec(1, 10), "alice", GENERAL, "answer", "openai/gpt-4o", (1000, 200, 300, 0), 0.0125),
    call(dec(1, 10, 0, 5), "alice", GENERAL, "tool_round", "openai/gpt-4o", (1500, 1000, 50, 0),
         0.004),
    call(dec(1, 23, 30), "bob", RANDOM, "answer", "anthropic/claude-x", (2000, 0, 500, 120), 0.03),
    call(dec(2, 8), "bob", RANDOM, "cached", "openai/gpt-4o", (0, 0, 0, 0), 0.0),
    call(dec(2, 9), "carol", GENERAL, "summary", "mystery/unknown-model", (4000, 0, 200, 0), None,
         estimated=True),
    call(dec(2, 9, 1), "carol", GENERAL, "answer", "mystery/unknown-model", (800, 0, 150, 0), None),
    call(dec(2, 12), "alice", RANDOM, "fallback", "openai/gpt-4o-mini", (300, 0, 0, 0), 0.0001,
         estimated=True),
    call(dec(2, 13), "alice", GENERAL, "handoff", "gptbot/handoff", (0, 0, 0, 0), 0.0),
]
# fmt: on

# questions: rows 1, 3, 4 and 6 (answers and cache hits); row 8 is a handoff, not a call;
# the rest are extra model calls.
TOTALS = dict(
    questions=4, handoffs=1, calls=7, input_tokens=9600, cached_input_tokens=1200,
    output_tokens=1200, reasoning_tokens=120, cost_usd=0.0466, unpriced_calls=2, estimated_calls=2,
    thumbs_up=0, thumbs_down=0, satisfaction=None,
)  # fmt: skip


def usage_dict(report: Report, key: str) -> dict[str, int | float]:
    (group,) = [group for group in report.groups if group.key == key]
    return group.usage.as_dict()


# -- summarize --------------------------------------------------------------------------------


def test_totals_match_the_hand_sums() -> None:
    assert summarize(ROWS, "user", UTC_P).totals.as_dict() == TOTALS


def test_by_user() -> None:
    report = summarize(ROWS, "user", UTC_P)
    assert [group.key for group in report.groups] == ["bob", "alice", "carol"]  # by cost
    assert usage_dict(report, "alice") == dict(
        questions=1, handoffs=1, calls=3, input_tokens=2800, cached_input_tokens=1200,
        output_tokens=350, reasoning_tokens=0, cost_usd=0.0166, unpriced_calls=0, estimated_calls=1,
        thumbs_up=0, thumbs_down=0, satisfaction=None,
    )  # fmt: skip
    assert usage_dict(report, "bob")["questions"] == 2
    carol = usage_dict(report, "carol")
    assert (carol["cost_usd"], carol["unpriced_calls"], carol["input_tokens"]) == (0, 2, 4800)


def test_by_channel() -> None:
    report = summarize(ROWS, "channel", UTC_P)
    assert [group.key for group in report.groups] == [RANDOM, GENERAL]
    assert usage_dict(report, GENERAL)["questions"] == 2  # rows 1 and 6
    assert usage_dict(report, RANDOM)["cost_usd"] == 0.0301  # rows 3, 4, 7


def test_by_model_joins_provider_and_model() -> None:
    report = summarize(ROWS, "model", UTC_P)
    assert [group.key for group in report.groups] == [
        "anthropic/claude-x",  # 0.03
        "openai/gpt-4o",  # 0.0165
        "openai/gpt-4o-mini",  # 0.0001
        "gptbot/handoff",  # $0: handoffs
        "mystery/unknown-model",  # unpriced
    ]
    assert usage_dict(report, "openai/gpt-4o")["calls"] == 3


def test_by_day_in_utc() -> None:
    report = summarize(ROWS, "day", UTC_P)
    assert [group.key for group in report.groups] == ["2026-12-01", "2026-12-02"]
    assert usage_dict(report, "2026-12-01")["cost_usd"] == 0.0465  # rows 1-3
    assert usage_dict(report, "2026-12-02")["calls"] == 4


def test_by_day_uses_the_time_zone() -> None:
    # Row 3 (23:30 UTC) is 00:30 on Dec 2 in Berlin, which makes Dec 2 the costlier day.
    report = summarize(ROWS, "day", BERLIN)
    assert [group.key for group in report.groups] == ["2026-12-02", "2026-12-01"]
    assert usage_dict(report, "2026-12-01")["calls"] == 2
    assert usage_dict(report, "2026-12-02")["cost_usd"] == 0.0301
    assert usage_dict(report, "2026-12-02")["questions"] == 3


def test_equal_costs_sort_by_key() -> None:
    rows = [row(user_id=name, cost_usd=0.5) for name in ("zed", "amy", "kim")]
    report = summarize([*rows, row(user_id="top", cost_usd=0.7)], "user", UTC_P)
    assert [group.key for group in report.groups] == ["top", "amy", "kim", "zed"]


def test_since_is_inclusive_and_until_exclusive() -> None:
    midnight = parse_date("2026-12-02", UTC_P)
    rows = [*ROWS, row(at=midnight, cost_usd=1.0)]
    after = summarize(rows, "user", UTC_P, since=midnight).totals
    before = summarize(rows, "user", UTC_P, until=midnight).totals
    assert (after.calls, before.calls) == (5, 3)  # rows 4-7 and the midnight one; rows 1-3
    assert after.cost_usd == pytest.approx(1.0001)
    assert before.cost_usd == pytest.approx(0.0465)


def test_no_rows_gives_zero_totals() -> None:
    report = summarize([], "model", UTC_P)
    assert report.groups == ()
    assert report.totals.as_dict() == {**dict.fromkeys(FIELDS, 0), "satisfaction": None}


# Votes: on r1 (alice's answer, general, gpt-4o) 👍 👍 👎; on r3 (bob's, random, claude) 👍;
# on a reply from before the rows ("old", general, gpt-4o) 👎.
VOTES = [
    Vote(dec(2, 14), "r1", "v1", GENERAL, UP, "gpt-4o", "", 0.0125),
    Vote(dec(2, 14), "r1", "v2", GENERAL, UP, "gpt-4o", "", 0.0125),
    Vote(dec(2, 14), "r1", "v3", GENERAL, DOWN, "gpt-4o", "", 0.0125),
    Vote(dec(2, 15), "r3", "v1", RANDOM, UP, "claude-x", "support", 0.03),
    Vote(dec(3, 9), "old", "v4", GENERAL, DOWN, "gpt-4o", "", None),
]
VOTED_ROWS = [replace(row, reply_id=f"r{n}") for n, row in enumerate(ROWS, 1)]


def thumbs(report: Report) -> dict[str, tuple[int, int]]:
    return {g.key: (g.usage.thumbs_up, g.usage.thumbs_down) for g in report.groups
            if g.usage.thumbs_up or g.usage.thumbs_down}


def test_votes_count_in_the_group_of_their_reply() -> None:
    by_user = summarize(VOTED_ROWS, "user", UTC_P, votes=VOTES)
    assert thumbs(by_user) == {"alice": (2, 1), "bob": (1, 0), "(earlier replies)": (0, 1)}
    assert by_user.totals.as_dict()["satisfaction"] == 3 / 5
    assert thumbs(summarize(VOTED_ROWS, "channel", UTC_P, votes=VOTES)) == {
        GENERAL: (2, 2), RANDOM: (1, 0)}
    assert thumbs(summarize(VOTED_ROWS, "model", UTC_P, votes=VOTES)) == {
        "openai/gpt-4o": (2, 2), "anthropic/claude-x": (1, 0)}
    assert thumbs(summarize(VOTED_ROWS, "day", UTC_P, votes=VOTES)) == {
        "2026-12-01": (3, 1), "2026-12-03": (0, 1)}  # r1 and r3 were answered on Dec 1


def test_the_table_notes_the_share_of_thumbs_up() -> None:
    text = render_table(summarize(VOTED_ROWS, "user", UTC_P, votes=VOTES))
    assert "Feedback on the replies: 3 👍, 2 👎 (60% 👍)." in text


def test_unknown_grouping_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="user, channel, model, day"):
        summarize(ROWS, "reply", UTC_P)


# -- parse_date -------------------------------------------------------------------------------


def test_parse_date_is_local_midnight() -> None:
    assert parse_date("2026-12-01", UTC_P) == 1_796_083_200  # 20,788 days after the epoch
    assert parse_date("2026-12-01", BERLIN) == at(2026, 12, 1, offset=1)
    assert parse_date(" 2026-07-01 ", BERLIN) == at(2026, 7, 1, offset=2)
    assert parse_date("2027-01-01", KOLKATA) == at(2027, 1, 1, offset=5.5)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "20261201", "2026-12-1", "2026-13-01", "2026-02-30", "2026-12-01T00"]
)
def test_parse_date_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=r"2026-12-01|YYYY-MM-DD"):
        parse_date(text, UTC_P)


# -- JSON -------------------------------------------------------------------------------------


def test_json_is_exactly_one_object_with_the_keys() -> None:
    text = render_json(summarize(ROWS, "user", UTC_P))
    document, end = json.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == ""
    assert isinstance(document, dict)
    assert set(document) == {"totals", "rows", "by", "since", "until"}
    assert document["totals"] == TOTALS
    assert (document["by"], document["since"], document["until"]) == ("user", None, None)
    assert [line["key"] for line in document["rows"]] == ["bob", "alice", "carol"]
    assert document["rows"][1]["cached_input_tokens"] == 1200
    assert document["rows"][2]["unpriced_calls"] == 2


def test_json_rounds_cost_to_six_decimals() -> None:
    rows = [row(cost_usd=0.000_000_4), row(cost_usd=0.000_001_2), row(cost_usd=1 / 3)]
    document = json.loads(render_json(summarize(rows, "user", UTC_P)))
    assert document["totals"]["cost_usd"] == 0.333335  # 0.3333349333... rounded


def test_json_shows_the_period_in_local_time() -> None:
    since, until = parse_date("2026-12-01", BERLIN), parse_date("2027-01-01", BERLIN)
    document = json.loads(render_json(summarize(ROWS, "day", BERLIN, since=since, until=until)))
    assert document["since"] == "2026-12-01T00:00:00+01:00"
    assert document["until"] == "2027-01-01T00:00:00+01:00"


# -- CSV --------------------------------------------------------------------------------------


def test_csv_round_trips() -> None:
    lines = list(csv.reader(io.StringIO(render_csv(summarize(ROWS, "user", UTC_P)))))
    assert lines[0] == ["user", *FIELDS]
    assert [line[0] for line in lines[1:]] == ["bob", "alice", "carol", "TOTAL"]
    assert lines[-1] == [
        "TOTAL", "4", "1", "7", "9600", "1200", "1200", "120", "0.046600", "2", "2", "0", "0"]
    assert lines[2] == [
        "alice", "1", "1", "3", "2800", "1200", "350", "0", "0.016600", "0", "1", "0", "0"]


def test_csv_quotes_awkward_keys() -> None:
    awkward = 'team "a", b\nc'
    text = render_csv(summarize([row(channel=awkward)], "channel", UTC_P))
    lines = list(csv.reader(io.StringIO(text)))
    assert [line[0] for line in lines] == ["channel", awkward, "TOTAL"]


# -- table ------------------------------------------------------------------------------------


def test_table_shows_groups_totals_and_the_unpriced_warning() -> None:
    text = render_table(summarize(ROWS, "user", UTC_P))
    total = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    expected = "TOTAL 4 1 7 9,600 1,200 1,200 120 0.046600 2 2 0 0"
    assert total.split() == expected.split()
    assert (
        "2 calls used a model with no price (unpriced) — add it to GPTBOT_PRICES; "
        "cost above excludes them."
    ) in text
    assert "2 calls had token counts estimated" in text
    assert text.index("bob") < text.index("alice") < text.index("carol") < text.index("TOTAL")


def test_table_columns_line_up() -> None:
    text = render_table(summarize(ROWS, "model", UTC_P))
    lines = text.splitlines()
    header, rule = lines[2], lines[3]
    assert header.startswith("model ")
    body = lines[2 : lines.index(rule, 4) + 2]  # header .. TOTAL
    assert len({len(line) for line in body}) == 1
    cost_end = header.index("cost USD") + len("cost USD")
    assert all(line[cost_end - 1].isdigit() for line in body[2:] if not line.startswith("-"))


def test_table_title_names_the_period_and_zone() -> None:
    since, until = parse_date("2026-12-01", BERLIN), parse_date("2026-12-03", BERLIN)
    title = render_table(summarize(ROWS, "day", BERLIN, since=since, until=until)).splitlines()[0]
    assert title == (
        "Usage by day from 2026-12-01 until 2026-12-03 (exclusive), Europe/Berlin time"
    )


def test_table_has_no_warnings_when_everything_is_priced() -> None:
    text = render_table(summarize(ROWS[:4], "user", UTC_P))
    assert "unpriced)" not in text
    assert "estimated" not in text.splitlines()[-1]
    assert "0.046500" in text


def test_table_of_nothing_says_so() -> None:
    text = render_table(summarize([], "model", UTC_P))
    assert "(no calls in this period)" in text
    assert "unpriced)" not in text


def test_table_singular_call() -> None:
    text = render_table(summarize([row(cost_usd=None)], "user", UTC_P))
    assert "1 call used a model with no price (unpriced)" in text
