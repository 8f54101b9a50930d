"""The check graph and its runner.

Checks run in the order given; each names the checks it needs. A check whose need failed
(or was itself skipped) is not run: it reports "skipped: needs <the broken check>", so one
cause prints once, with one fix, instead of once per check that trips over it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gptbot.diagnosis.catalog import CAUSES, FAIL, WARN, Problem

log = logging.getLogger(__name__)
OK, SKIP = "ok", "skip"
EXIT_OK, EXIT_BROKEN, EXIT_WARNINGS = 0, 1, 2


@dataclass
class Context:
    """What the probes share: the config, clients, and facts found on the way (the app
    settings read by the credentials check, the public URL found by its check)."""

    config: Any
    port: int | None = None
    timeout: float = 5.0
    facts: dict[str, Any] = field(default_factory=dict)
    # The raw settings, for the few a check reads that Config does not keep (GPTBOT_GEVENT).
    environ: Mapping[str, str] = field(default_factory=dict)


Probe = Callable[[Context], str]


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe  # returns the "ok" detail, or raises catalog.Problem
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # OK, FAIL, WARN or SKIP
    detail: str
    fix: str = ""
    cause: str = ""  # the catalog id, "" when ok
    needs: tuple[str, ...] = ()
    blocked_by: str = ""  # for a skipped check: the broken check it waits for

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class Diagnosis:
    results: tuple[Result, ...]

    @property
    def exit_code(self) -> int:
        statuses = {result.status for result in self.results}
        if statuses & {FAIL, SKIP}:
            return EXIT_BROKEN
        return EXIT_WARNINGS if WARN in statuses else EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "ok", EXIT_BROKEN: "broken", EXIT_WARNINGS: "warnings"}[self.exit_code]

    @property
    def failures(self) -> tuple[Result, ...]:
        return tuple(result for result in self.results if result.status == FAIL)

    def get(self, name: str) -> Result:
        return next(result for result in self.results if result.name == name)


def run(checks: Iterable[Check], context: Context) -> Diagnosis:
    done: dict[str, Result] = {}
    for check in checks:
        done[check.name] = _blocked(check, done) or _probe(check, context)
    return Diagnosis(tuple(done.values()))


def _blocked(check: Check, done: dict[str, Result]) -> Result | None:
    """A skip naming the root cause: the first need that is broken, or what blocks it."""
    for need in check.needs:
        result = done.get(need)
        if result is None or result.status in (OK, WARN):
            continue
        root = result.blocked_by or result.name
        return Result(check.name, SKIP, f"skipped: needs {root}", needs=check.needs,
                      blocked_by=root)
    return None


def _probe(check: Check, context: Context) -> Result:
    try:
        detail = check.probe(context)
    except Problem as problem:
        return failed(check, problem)
    except Exception as exc:  # a bug in a probe must not hide the other checks' answers
        log.debug("check %s crashed", check.name, exc_info=True)
        return failed(check, Problem("check.crashed", error=_one_line(exc)))
    return Result(check.name, OK, detail, needs=check.needs)


def failed(check: Check, problem: Problem) -> Result:
    return Result(check.name, problem.cause.severity, problem.line, problem.fix,
                  problem.cause.id, check.needs)


def _one_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


__all__ = ["CAUSES", "EXIT_BROKEN", "EXIT_OK", "EXIT_WARNINGS", "OK", "SKIP", "Check",
           "Context", "Diagnosis", "Result", "run"]
