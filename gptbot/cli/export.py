"""`gptbot export`: the audit log as JSON lines, one record an object, for an auditor's tools.

Dates are local dates in GPTBOT_TIMEZONE, as for `gptbot usage`; without them, everything.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from typing import TextIO

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.costs.periods import Periods, parse_timezone
from gptbot.costs.report import parse_date
from gptbot.store import AuditQuery, AuditRecord, open_stores


def add_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="the audit log as JSON lines (one record a line)")
    export.add_argument("--since", help="first day, YYYY-MM-DD (default: the first record)")
    export.add_argument("--until", help="day after the last, YYYY-MM-DD (exclusive)")
    export.add_argument("--user", help="only this user id's records")
    export.add_argument("--channel", help="only this channel's records (cid, type:id)")
    export.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = Config.from_env()
    write(lines(records(config, query_for(config, args))), sys.stdout)
    return 0


def query_for(config: Config, args: argparse.Namespace) -> AuditQuery:
    periods = Periods(parse_timezone(config.limits.timezone))
    try:
        since = parse_date(args.since, periods) if args.since else float("-inf")
        until = parse_date(args.until, periods) if args.until else float("inf")
    except ValueError as exc:
        raise ConfigError(f"--since/--until: {exc}") from None
    return AuditQuery(since, until, args.user, args.channel)


def records(config: Config, query: AuditQuery) -> list[AuditRecord]:
    stores = open_stores(config.database_url)
    try:
        return stores.audit.audit_records(query)
    finally:
        stores.close()


def lines(found: list[AuditRecord]) -> Iterator[str]:
    for record in found:
        yield json.dumps(asdict(record), ensure_ascii=False, separators=(",", ":")) + "\n"


def write(out: Iterator[str], stream: TextIO) -> None:
    for line in out:
        stream.write(line)
