"""A check per GPTBOT_FALLBACK entry, named "fallback provider:model": the same probe as the
primary model's (model_checks.model), with the words of its own setting where they differ."""

from __future__ import annotations

from dataclasses import replace

from gptbot.config import Config
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Check, Context, Probe
from gptbot.diagnosis.model_checks import MODEL, model
from gptbot.llm.providers import PROVIDERS

# The primary's causes that name GPTBOT_PROVIDER or GPTBOT_MODEL → the fallback's own.
_OWN_WORDS = {"model.key_missing": "fallback.key_missing", "model.unknown": "fallback.unknown"}


def fallback_checks(config: Config) -> list[Check]:
    """One check per entry; an entry on the primary's provider needs the primary's check
    (same key, same URL: a rejected key would otherwise print twice)."""
    checks = []
    for entry, (provider, name) in zip(config.fallback, config.model_chain()[1:], strict=True):
        needs = (MODEL,) if provider == config.provider else ()
        checks.append(Check(f"fallback {provider}:{name}", fallback(entry, provider, name),
                            needs))
    return checks


def fallback(entry: str, provider: str, name: str) -> Probe:
    def probe(context: Context) -> str:
        if provider not in PROVIDERS:
            raise Problem("fallback.invalid", entry=entry, error=f"provider {provider!r} is "
                          f"unknown; use one of {', '.join(sorted(PROVIDERS))}")
        if not name:
            raise Problem("fallback.invalid", entry=entry, error="it names no model")
        config = replace(context.config, provider=provider, model=name, fallback=())
        try:
            return model(replace(context, config=config))
        except Problem as problem:
            raise _in_own_words(problem, entry) from problem
    return probe


def _in_own_words(problem: Problem, entry: str) -> Problem:
    own = _OWN_WORDS.get(problem.cause.id)
    return Problem(own, entry=entry, **problem.values) if own else problem
