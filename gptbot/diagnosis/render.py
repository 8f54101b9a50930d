"""A Diagnosis as text for people and as JSON for scripts and monitoring.

JSON schema (version 1), stable for monitoring:
    {"version": 1, "status": "ok" | "warnings" | "broken", "exit_code": 0 | 2 | 1,
     "checks": [{"name", "status": "ok"|"fail"|"warn"|"skip", "detail", "fix",
                 "cause", "needs": [...], "blocked_by"}]}
"""

from __future__ import annotations

import json
from typing import Any

from gptbot.diagnosis.graph import Diagnosis, Result

SCHEMA_VERSION = 1
MARKS = {"ok": "ok  ", "fail": "FAIL", "warn": "WARN", "skip": "skip"}


def render_text(diagnosis: Diagnosis) -> str:
    width = max((len(result.name) for result in diagnosis.results), default=0)
    lines: list[str] = []
    for result in diagnosis.results:
        lines.append(f"{MARKS[result.status]}  {result.name:<{width}}  {result.detail}")
        if result.fix:
            lines.append(f"{'':4}  {'':<{width}}  fix: {result.fix}")
    return "\n".join(lines)


def render_failures(diagnosis: Diagnosis) -> str:
    """Only what is broken, for a start-up that stops (`gptbot setup`) or logs it (serve)."""
    return "\n".join(f"{result.name}: {result.detail}\n  fix: {result.fix}"
                     for result in diagnosis.failures)


def as_json(diagnosis: Diagnosis) -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "status": diagnosis.verdict,
            "exit_code": diagnosis.exit_code,
            "checks": [_result(result) for result in diagnosis.results]}


def render_json(diagnosis: Diagnosis) -> str:
    return json.dumps(as_json(diagnosis), indent=2, ensure_ascii=False)


def _result(result: Result) -> dict[str, Any]:
    return {"name": result.name, "status": result.status, "detail": result.detail,
            "fix": result.fix, "cause": result.cause, "needs": list(result.needs),
            "blocked_by": result.blocked_by}
