"""The operator's usage report: ledger rows summed per user, channel, model or local day.

Owns the pure part of `gptbot usage [--since DATE] [--until DATE] [--by user|channel|model|day]
[--format table|csv|json]`: `parse_date` for the flags, `summarize` for the sums, and one
renderer per format. Reading the ledger and printing belong to the command.

`--since` and `--until` are local dates (YYYY-MM-DD) in GPTBOT_TIMEZONE meaning that day's
local midnight. `--since` is inclusive and `--until` is exclusive, so `--since 2026-12-01
--until 2027-01-01` is exactly December.

A "question" is a row whose purpose is "answer" or "cached": one per reply; a "handoff" row
is a conversation handed to a person (no model call, not among `calls`); `calls`
counts every model call (summaries and tool rounds included). `input_tokens` counts every
prompt token, cached ones included; `cached_input_tokens` is the part billed at the cached
rate. `cost_usd` sums the priced rows only; `unpriced_calls` says how many it leaves out.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from gptbot.costs.periods import Periods
from gptbot.costs.satisfaction import Tally, votes_by_group
from gptbot.store import Vote
from gptbot.store.ledger import LedgerRow

QUESTION_PURPOSES = frozenset({"answer", "cached"})
HANDOFF = "handoff"  # a row for a conversation handed to a person: no model call
FIELDS = (
    "questions",
    "handoffs",
    "calls",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_usd",
    "unpriced_calls",
    "estimated_calls",
    "thumbs_up",
    "thumbs_down",
)
COST_DECIMALS = 6
TOTAL_KEY = "TOTAL"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Usage:
    """The sums over some rows (one group, or all of them)."""

    questions: int = 0
    handoffs: int = 0
    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    estimated_calls: int = 0
    thumbs_up: int = 0  # votes on the replies (costs/satisfaction.py)
    thumbs_down: int = 0

    @classmethod
    def of(cls, rows: Sequence[LedgerRow], votes: Iterable[Vote] = ()) -> Usage:
        tally = Tally.of(votes)
        handoffs = sum(row.purpose == HANDOFF for row in rows)
        rows = [row for row in rows if row.purpose != HANDOFF]
        priced = [row.cost_usd for row in rows if row.cost_usd is not None]
        return cls(
            questions=sum(row.purpose in QUESTION_PURPOSES for row in rows),
            handoffs=handoffs,
            calls=len(rows),
            input_tokens=sum(row.input_tokens for row in rows),
            cached_input_tokens=sum(row.cached_input_tokens for row in rows),
            output_tokens=sum(row.output_tokens for row in rows),
            reasoning_tokens=sum(row.reasoning_tokens for row in rows),
            # fsum: thousands of tiny per-call costs would otherwise drift in the last digits.
            cost_usd=math.fsum(priced),
            unpriced_calls=len(rows) - len(priced),
            estimated_calls=sum(row.estimated for row in rows),
            thumbs_up=tally.up,
            thumbs_down=tally.down,
        )

    def as_dict(self) -> dict[str, int | float | None]:
        values: dict[str, int | float | None] = {name: getattr(self, name) for name in FIELDS}
        values["cost_usd"] = round(self.cost_usd, COST_DECIMALS)
        values["satisfaction"] = self.tally.rate
        return values

    @property
    def tally(self) -> Tally:
        return Tally(self.thumbs_up, self.thumbs_down)


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class Report:
    """Groups sorted by cost (highest first), then key; `since`/`until` as passed."""

    by: str
    groups: tuple[Group, ...]
    totals: Usage
    periods: Periods
    since: float | None = None
    until: float | None = None


# Each --by choice names the row attribute(s) that make a group's key.
GROUPINGS: dict[str, Callable[[LedgerRow, Periods], str]] = {
    "user": lambda row, _periods: row.user_id,
    "channel": lambda row, _periods: row.channel,
    "model": lambda row, _periods: f"{row.provider}/{row.model}",
    "day": lambda row, periods: periods.day(row.at),
}


def parse_date(text: str, periods: Periods) -> float:
    """Local midnight starting the date `text` ("2026-12-01"); ValueError otherwise."""
    cleaned = text.strip()
    # date.fromisoformat alone would also accept "20261201" and week dates.
    if not _DATE.fullmatch(cleaned):
        raise ValueError(f"expected a date like 2026-12-01, not {text!r}")
    try:
        return periods.midnight(date.fromisoformat(cleaned))
    except ValueError:
        raise ValueError(f"{text!r} is not a real date (expected YYYY-MM-DD)") from None


def summarize(
    rows: Iterable[LedgerRow],
    by: str,
    periods: Periods,
    *,
    since: float | None = None,
    until: float | None = None,
    votes: Iterable[Vote] = (),
) -> Report:
    """Sum `rows` per `by` group, with the votes on their replies; rows outside
    [since, until) are skipped (`votes` are taken as given: the caller picks their time)."""
    key_of = _grouping(by)
    buckets: dict[str, list[LedgerRow]] = {}
    for row in _within(rows, since, until):
        buckets.setdefault(key_of(row, periods), []).append(row)
    every = [row for members in buckets.values() for row in members]
    voted = votes_by_group(votes, every, lambda row: key_of(row, periods), by, periods)
    groups = [Group(key, Usage.of(buckets.get(key, []), voted.get(key, ())))
              for key in dict.fromkeys([*buckets, *voted])]
    groups.sort(key=lambda group: (-group.usage.cost_usd, group.key))
    totals = Usage.of(every, [vote for group in voted.values() for vote in group])
    return Report(by, tuple(groups), totals, periods, since, until)


def _grouping(by: str) -> Callable[[LedgerRow, Periods], str]:
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    return GROUPINGS[by]


def _within(
    rows: Iterable[LedgerRow], since: float | None, until: float | None
) -> Iterator[LedgerRow]:
    for row in rows:
        if (since is None or row.at >= since) and (until is None or row.at < until):
            yield row


# -- JSON ------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """One JSON object: totals, rows (one per group, with "key"), by, since, until.

    since/until are ISO 8601 local times with their UTC offset, or null when not given.
    """
    document: dict[str, Any] = {
        "totals": report.totals.as_dict(),
        "rows": [{"key": group.key, **group.usage.as_dict()} for group in report.groups],
        "by": report.by,
        "since": _iso(report.since, report.periods),
        "until": _iso(report.until, report.periods),
    }
    return json.dumps(document, indent=2)


def _iso(moment: float | None, periods: Periods) -> str | None:
    return None if moment is None else periods.local(moment).isoformat()


# -- CSV -------------------------------------------------------------------------------------


def render_csv(report: Report) -> str:
    """A header (the --by name, then FIELDS), one line per group, then a "TOTAL" line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([report.by, *FIELDS])
    for group in report.groups:
        writer.writerow(_csv_line(group.key, group.usage))
    writer.writerow(_csv_line(TOTAL_KEY, report.totals))
    return out.getvalue()


def _csv_line(key: str, usage: Usage) -> list[str]:
    # Fixed decimals: str() of a float would switch to "1e-06" for tiny costs.
    cost = f"{usage.cost_usd:.{COST_DECIMALS}f}"
    return [key, *(cost if name == "cost_usd" else str(getattr(usage, name)) for name in FIELDS)]


# -- table -----------------------------------------------------------------------------------

_HEADINGS = {
    "questions": "questions",
    "handoffs": "handoffs",
    "calls": "calls",
    "input_tokens": "input",
    "cached_input_tokens": "cached in",
    "output_tokens": "output",
    "reasoning_tokens": "reasoning",
    "cost_usd": "cost USD",
    "unpriced_calls": "unpriced",
    "estimated_calls": "estimated",
    "thumbs_up": "up",
    "thumbs_down": "down",
}


def render_table(report: Report) -> str:
    """An aligned table for a terminal: a title, the groups, a TOTAL line, then any notes."""
    lines = [[report.by, *(_HEADINGS[name] for name in FIELDS)]]
    lines += [_table_line(group.key, group.usage) for group in report.groups]
    lines.append(_table_line(TOTAL_KEY, report.totals))
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    body = [_aligned(line, widths) for line in lines]
    rule = "-" * len(body[0])
    groups = body[1:-1] or ["(no calls in this period)"]
    notes = _notes(report.totals)
    out = [_title(report), "", body[0], rule, *groups, rule, body[-1], *([""] if notes else [])]
    return "\n".join([*out, *notes]) + "\n"


def _table_line(key: str, usage: Usage) -> list[str]:
    cost = f"{usage.cost_usd:,.{COST_DECIMALS}f}"
    return [key, *(cost if name == "cost_usd" else f"{getattr(usage, name):,}" for name in FIELDS)]


def _aligned(line: list[str], widths: list[int]) -> str:
    # Keys read left to right; numbers line up on their last digit.
    key, *numbers = line
    cells = [key.ljust(widths[0])]
    cells += [value.rjust(width) for value, width in zip(numbers, widths[1:], strict=True)]
    return "  ".join(cells)


def _title(report: Report) -> str:
    since = "the start" if report.since is None else _when(report.since, report.periods)
    until = "now" if report.until is None else f"{_when(report.until, report.periods)} (exclusive)"
    return f"Usage by {report.by} from {since} until {until}, {report.periods.tz.key} time"


def _when(moment: float, periods: Periods) -> str:
    # --since/--until are midnights, shown as plain dates; other moments keep their time.
    local = periods.local(moment)
    if local.time() == time(0):
        return local.date().isoformat()
    return f"{local:%Y-%m-%d %H:%M}"


def _notes(totals: Usage) -> list[str]:
    notes = []
    if totals.unpriced_calls:
        notes.append(
            f"{_calls(totals.unpriced_calls)} used a model with no price (unpriced) — "
            "add it to GPTBOT_PRICES; cost above excludes them."
        )
    if totals.estimated_calls:
        notes.append(f"{_calls(totals.estimated_calls)} had token counts estimated, not reported.")
    if totals.tally.rate is not None:
        notes.append(f"Feedback on the replies: {totals.tally.describe()}.")
    return notes


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"
