"""`gptbot jobs`: the most recent jobs in the store, and why the failed ones failed."""

from __future__ import annotations

import argparse
import time

from gptbot.store.jobs import ACTIVE, ENDED, FAILED, JobRecord

COLUMNS = ("KEY", "STATE", "ATTEMPTS", "UPDATED", "REASON")


def add_parser(sub: argparse._SubParsersAction) -> None:
    jobs = sub.add_parser("jobs", help="recent jobs: state, attempts, why they failed")
    which = jobs.add_mutually_exclusive_group()
    which.add_argument("--failed", action="store_const", const=FAILED, dest="state",
                       help="only the jobs that failed (gave up, or the model refused)")
    which.add_argument("--state", choices=[*ACTIVE, *ENDED], help="only jobs in this state")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    jobs.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gptbot.config import Config
    from gptbot.store import open_stores

    stores = open_stores(Config.from_env().database_url)
    try:
        records = stores.jobs.jobs(args.state, max(1, args.limit))
    finally:
        stores.close()
    print(render(records), end="")
    return 0


def render(records: list[JobRecord]) -> str:
    """A plain table, newest first; the reason last, so a long one only runs off the end."""
    if not records:
        return "no jobs\n"
    rows = [COLUMNS, *(_row(record) for record in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
             for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _row(record: JobRecord) -> tuple[str, ...]:
    updated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.updated_at))
    return (record.key, record.state, str(record.attempts), updated,
            " ".join(record.reason.split()) or "-")
