"""Moderation of questions and answers (GPTBOT_MODERATION): OpenAI's endpoint, a local blocklist.

`OpenAIModeration` posts to the OpenAI-compatible `/moderations` (retried like the model:
429, 5xx, connection errors and timeouts) and flags a text the endpoint flags, or any category
whose score reaches its threshold (GPTBOT_MODERATION_THRESHOLDS). `Blocklist` needs no network:
one regular expression a line. `Moderator` runs every configured check and combines their
verdicts; when a check cannot answer it raises `ModerationUnavailable`, unless another one
flagged the text already. Imports only the core, `requests` and `tenacity`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_random_exponential

from gptbot.core.errors import ConfigError, GptBotError

log = logging.getLogger(__name__)
DEFAULT_BLOCKLIST = "blocklist.txt"
CATEGORY = re.compile(r"[a-z][a-z0-9_/-]*")


class ModerationUnavailable(GptBotError):
    """No moderator could say whether a text is acceptable."""

    user_message = "Sorry, I can't check this question right now; please try again later."


class _Retryable(ModerationUnavailable):
    """429, 5xx or no connection: worth another try."""


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    categories: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def describe(self) -> str:
        """One line for the audit log: `openai:flagged:hate,violence` or `local:ok`."""
        if not self.flagged:
            return f"{self.source}:ok"
        return f"{self.source}:flagged:{','.join(self.categories)}"


class Check(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, text: str) -> Verdict: ...


def parse_thresholds(raw: str) -> dict[str, float]:
    """`hate=0.4, violence=0.7` → {"hate": 0.4, "violence": 0.7}; a bad part is a ConfigError."""
    thresholds: dict[str, float] = {}
    for part in (p.strip() for p in raw.split(",")):
        if part:
            name, value = _threshold(part)
            thresholds[name] = value
    return thresholds


def _threshold(part: str) -> tuple[str, float]:
    name, _, value = (s.strip() for s in part.partition("="))
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not CATEGORY.fullmatch(name.lower()) or not 0.0 <= number <= 1.0:
        raise ConfigError(f"GPTBOT_MODERATION_THRESHOLDS: {part!r} is not category=score "
                          "with a score from 0 to 1 (e.g. hate=0.4,violence=0.7)")
    return name.lower(), number


@dataclass
class OpenAIModeration:
    url: str  # the API's base URL; /moderations is added
    api_key: str | None
    model: str = "omni-moderation-latest"
    thresholds: dict[str, float] = field(default_factory=dict)
    attempts: int = 4
    timeout: float = 10.0
    session: requests.Session = field(default_factory=requests.Session)
    wait: wait_base = field(default_factory=lambda: wait_random_exponential(0.5, max=8))
    name: str = "openai"

    def check(self, text: str) -> Verdict:
        retrying = Retrying(retry=retry_if_exception_type(_Retryable),
                            stop=stop_after_attempt(self.attempts), wait=self.wait,
                            before_sleep=lambda s: log.warning("moderation failed, retrying: %s",
                                                               s.outcome and s.outcome.exception()),
                            reraise=True)
        return self.verdict(retrying(self._post, text))

    def _post(self, text: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "input": text}
        try:
            response = self.session.post(f"{self.url.rstrip('/')}/moderations", json=body,
                                         headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _Retryable(f"cannot reach the moderation endpoint: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"moderation endpoint answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ModerationUnavailable(f"moderation endpoint answered HTTP "
                                        f"{response.status_code}: {response.text[:200]}")
        return _result(response)

    def verdict(self, result: dict[str, Any]) -> Verdict:
        scores = {str(k): float(v) for k, v in (result.get("category_scores") or {}).items()}
        named = {str(k) for k, v in (result.get("categories") or {}).items() if v}
        over = {k for k, limit in self.thresholds.items() if scores.get(k, 0.0) >= limit}
        categories = tuple(sorted(named | over))
        flagged = bool(result.get("flagged")) or bool(categories)
        return Verdict(flagged, categories, scores, self.name)


def _result(response: requests.Response) -> dict[str, Any]:
    try:
        result = response.json()["results"][0]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModerationUnavailable("moderation endpoint answered without results") from exc
    if not isinstance(result, dict):
        raise ModerationUnavailable("moderation endpoint answered without results")
    return result


@dataclass(frozen=True)
class Blocklist:
    patterns: tuple[re.Pattern[str], ...]
    name: str = "local"

    @classmethod
    def load(cls, path: str | None = None) -> Blocklist:
        """The file at `path`, or the default list shipped with gptbot."""
        if path is None:
            text = resources.files("gptbot.safety").joinpath(DEFAULT_BLOCKLIST).read_text()
            return cls.parse(text, DEFAULT_BLOCKLIST)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"GPTBOT_BLOCKLIST: cannot read {path}: {exc}") from exc
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, origin: str = "blocklist") -> Blocklist:
        patterns = []
        # Lines end at \n (or \r\n): `splitlines` would also break at U+2028 inside a pattern.
        for number, line in enumerate(text.split("\n"), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(_compile(line, f"{origin}:{number}"))
        return cls(tuple(patterns))

    def check(self, text: str) -> Verdict:
        hit = any(pattern.search(text) for pattern in self.patterns)
        return Verdict(hit, ("blocklist",) if hit else (), {"blocklist": float(hit)}, self.name)


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"GPTBOT_BLOCKLIST: {where}: {pattern!r} is not a valid "
                          f"regular expression ({exc})") from exc


class Moderator:
    def __init__(self, checks: Sequence[Check]) -> None:
        self.checks = tuple(checks)

    def check(self, text: str) -> Verdict:
        """The combined verdict; ModerationUnavailable when a check failed and none flagged."""
        verdicts, failures = [], []
        for check in self.checks:
            try:
                verdicts.append(check.check(text))
            except ModerationUnavailable as exc:
                log.warning("moderation by %s unavailable: %s", check.name, exc)
                failures.append(exc)
        combined = combine(verdicts)
        if failures and not combined.flagged:
            raise failures[0]
        return combined


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    categories = tuple(dict.fromkeys(c for v in verdicts for c in v.categories))
    scores = {k: s for v in verdicts for k, s in v.scores.items()}
    source = "+".join(v.source for v in verdicts if v.flagged) or \
        "+".join(v.source for v in verdicts)
    return Verdict(any(v.flagged for v in verdicts), categories, scores, source)


def build_moderator(
    names: Sequence[str], *, base_url: str, api_key: str | None, model: str,
    thresholds: str = "", blocklist: str | None = None, attempts: int = 4,
    session: requests.Session | None = None,
) -> Moderator | None:
    """The checks named in GPTBOT_MODERATION (None when off); bad settings are ConfigErrors.
    `session`: one pooled to the worker's concurrency, so a moderation call per answer
    reuses a kept-alive connection."""
    limits = parse_thresholds(thresholds)
    checks: list[Check] = []
    if "local" in names:
        checks.append(Blocklist.load(blocklist))
    if "openai" in names:
        checks.append(OpenAIModeration(base_url, api_key, model, limits, attempts,
                                       session=session or requests.Session()))
    return Moderator(checks) if names else None
