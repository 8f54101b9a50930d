"""`gptbot doctor [--json] [--port P]`: check a deployment end to end, in dependency order,
and say for each broken link its one cause and its one fix (gptbot.diagnosis does the work).

Exit codes: 0 all good, 1 something is broken, 2 only warnings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gptbot.diagnosis import Result, diagnose, graph, render_json, render_text, safety_checks
from gptbot.diagnosis.graph import Diagnosis

Check = Result  # the name this module's callers used before gptbot.diagnosis existed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="local port ngrok forwards to")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per probe")


def run(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    diagnosis = diagnose(environ, port=args.port, timeout=getattr(args, "timeout", 5.0))
    print(render_json(diagnosis) if getattr(args, "json", False) else render_text(diagnosis))
    return diagnosis.exit_code


def run_checks(environ: Mapping[str, str] | None = None, port: int | None = None,
               timeout: float = 5.0) -> list[Result]:
    return list(diagnose(environ, port, timeout).results)


def render(checks: Sequence[Result]) -> str:
    return render_text(Diagnosis(tuple(checks)))


# Kept for callers of the old module (tests/safety uses them): one probe, run as a check.
def _run(name: str, probe: Callable[[], str]) -> Result:
    check = graph.Check(name, lambda _: probe())
    return graph.run([check], graph.Context(None)).results[0]


def _moderation(config: Any) -> str:
    return safety_checks.moderation(graph.Context(config))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gptbot doctor", description=__doc__)
    add_arguments(parser)
    from dotenv import load_dotenv

    load_dotenv()
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
