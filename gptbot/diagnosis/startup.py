"""The diagnosis where a failure first happens: `gptbot serve` and `gptbot setup` at start.

Before registering, both ask `diagnose_startup`: Stream reachable, credentials accepted (two
quick requests). When not, they print or log its `render_failures` text, the same words
`gptbot doctor` prints, instead of a traceback of urllib3's retries. A Stream error later in
registration (a channel type that does not exist, say) gets the same treatment through
`describe_failure`.
"""

from __future__ import annotations

from typing import Any

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import EXIT_BROKEN, Context, Diagnosis, run
from gptbot.diagnosis.plan import stream_checks
from gptbot.diagnosis.stream_checks import network_problem, stream_problem, stream_url


def diagnose_startup(config: Any, port: int | None = None,
                     timeout: float = 5.0) -> Diagnosis | None:
    """None when Stream answers and accepts the credentials; else the Diagnosis saying which
    link is broken (a rate limit is only a warning: start-up goes on)."""
    diagnosis = run(stream_checks(config)[:2], Context(config, port, timeout))
    return diagnosis if diagnosis.exit_code == EXIT_BROKEN else None


def describe_failure(exc: BaseException, config: Any, timeout: float = 5.0) -> str:
    """A Stream call's failure as "<what is wrong>\\n  fix: <the fix>"; str(exc) for others."""
    problem = _problem(exc, config, timeout)
    return f"{problem.line}\n  fix: {problem.fix}" if problem else str(exc)


def _problem(exc: BaseException, config: Any, timeout: float) -> Problem | None:
    if isinstance(exc, StreamAPIException):
        return stream_problem(exc, config)
    if isinstance(exc, requests.RequestException):
        url, origin = stream_url(config)
        return network_problem(exc, url, origin, timeout)
    return None
