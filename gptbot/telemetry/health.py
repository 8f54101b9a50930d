"""Readiness: can this process serve a command right now? Each part is checked by calling it.

A check that costs a rate-limited call (Stream's app settings) is trusted for a while once
it passed, so a probe every few seconds does not spend Stream's budget; a failure is never
trusted, so recovery shows at the next probe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Readiness:
    def __init__(
        self,
        checks: Mapping[str, Callable[[], object]],
        trust_s: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checks = dict(checks)
        self.trust_s = dict(trust_s or {})
        self.clock = clock
        self._passed_at: dict[str, float] = {}

    def failures(self) -> dict[str, str]:
        """The failing parts, each with the kind of error (the details go to the log only:
        an error message may carry a URL with its password)."""
        results = {name: self._check(name, check) for name, check in self.checks.items()}
        return {name: reason for name, reason in results.items() if reason}

    def _check(self, name: str, check: Callable[[], object]) -> str | None:
        if self._trusted(name):
            return None
        try:
            check()
        except Exception as exc:
            self._passed_at.pop(name, None)
            log.warning("not ready: %s check failed: %s", name, exc)
            return type(exc).__name__
        self._passed_at[name] = self.clock()
        return None

    def _trusted(self, name: str) -> bool:
        passed = self._passed_at.get(name)
        return passed is not None and self.clock() - passed < self.trust_s.get(name, 0.0)
