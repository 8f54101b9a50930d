"""What a model call costs: the price table, its lookup rule and the cost arithmetic.

Owns the shipped table (`prices.toml`, USD per 1M tokens), the operator's override file
of the same shape, how a model name finds its price, and turning token counts into
dollars. Pure: no I/O beyond reading those two files, no environment, no network.

A model without a price is *unpriced* (`None`), never $0: a budget must not treat an
unknown model as free. Only the providers in `FREE_PROVIDERS` run on our own hardware
and cost nothing.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from gptbot.core.errors import ConfigError

PRICES_ENV = "GPTBOT_PRICES"  # the setting that names the override file (read by config)
FREE_PROVIDERS = frozenset({"local", "ollama"})
PER_TOKENS = 1_000_000
REQUIRED_KEYS = ("input", "output")

# One snapshot or alias suffix after a known name: -latest, Anthropic's -0 (as in
# claude-sonnet-4-0), Anthropic's -YYYYMMDD, OpenAI's -YYYY-MM-DD, Gemini's -001.
# Anything else (-mini, -preview-05-20, -lite-001) is another model and stays unpriced.
SNAPSHOT_SUFFIX = re.compile(r"-(?:latest|0|\d{8}|\d{4}-\d{2}-\d{2}|\d{3})")
# Gemini's API also names a model by its resource name.
RESOURCE_PREFIX = "models/"


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens; a missing cached/cache-write rate is `input`, reasoning `output`."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None

    @property
    def cached_rate(self) -> float:
        return self.input if self.cached_input is None else self.cached_input

    @property
    def cache_write_rate(self) -> float:
        return self.input if self.cache_write is None else self.cache_write

    @property
    def reasoning_rate(self) -> float:
        return self.output if self.reasoning is None else self.reasoning


PRICE_KEYS = frozenset(f.name for f in fields(Price))
ZERO = Price(input=0.0, output=0.0)


class TokenCounts(Protocol):
    """A usage report. Wholes include their parts; None means 0.

    `input_tokens` counts every prompt token, the cached and cache-write ones included;
    `output_tokens` counts every generated token, the reasoning ones included.
    """

    @property
    def input_tokens(self) -> int | None: ...
    @property
    def cached_input_tokens(self) -> int | None: ...
    @property
    def cache_write_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...
    @property
    def reasoning_tokens(self) -> int | None: ...


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name; build it with `PriceTable.load`."""

    prices: Mapping[str, Price]

    @classmethod
    def load(cls, override_path: str | None = None) -> PriceTable:
        """The shipped table, then each model of the override file replaces or adds its entry."""
        shipped = resources.files("gptbot.costs").joinpath("prices.toml")
        prices = parse_prices(shipped.read_bytes(), str(shipped))
        if override_path:
            prices.update(parse_prices(_read(override_path), override_path))
        return cls(MappingProxyType(prices))

    def price_for(self, provider: str, model: str) -> Price | None:
        """The model's price, `ZERO` on a free provider, None when unpriced."""
        if provider in FREE_PROVIDERS:
            return ZERO
        name = self._known_name(model) or self._known_name(model.removeprefix(RESOURCE_PREFIX))
        return None if name is None else self.prices[name]

    def is_priced(self, provider: str, model: str) -> bool:
        return self.price_for(provider, model) is not None

    def _known_name(self, model: str) -> str | None:
        if model in self.prices:
            return model
        # Longest first so that a name is never stolen by a shorter one it starts with.
        for name in sorted(self.prices, key=len, reverse=True):
            rest = model.removeprefix(name)
            if rest != model and SNAPSHOT_SUFFIX.fullmatch(rest):
                return name
        return None


def cost_usd(price: Price, usage: TokenCounts) -> float:
    """What `usage` costs at `price`, in USD."""
    prompt, cached, written = _count(
        usage, "input_tokens", "cached_input_tokens", "cache_write_tokens"
    )
    output, reasoning = _count(usage, "output_tokens", "reasoning_tokens")
    # Parts larger than their whole (an inconsistent report) are billed as reported,
    # and the plain remainder never goes negative.
    total = (
        max(prompt - cached - written, 0) * price.input
        + cached * price.cached_rate
        + written * price.cache_write_rate
        + max(output - reasoning, 0) * price.output
        + reasoning * price.reasoning_rate
    )
    return total / PER_TOKENS


def worst_case_cost(price: Price, prompt_tokens: int, max_output_tokens: int) -> float:
    """An upper bound of a call's cost, to reserve budget before making it.

    Each token at the highest rate it could be billed at: a cache write (1.25x input on
    Anthropic) costs more than a plain prompt token, so "full input rate" alone would not
    be a bound.
    """
    prompt_rate = max(price.input, price.cached_rate, price.cache_write_rate)
    output_rate = max(price.output, price.reasoning_rate)
    return (prompt_tokens * prompt_rate + max_output_tokens * output_rate) / PER_TOKENS


def _count(usage: TokenCounts, *names: str) -> tuple[int, ...]:
    # getattr with a default: usage objects of providers without caching or reasoning
    # may not carry those attributes at all.
    counts = tuple(getattr(usage, name, None) or 0 for name in names)
    for name, count in zip(names, counts, strict=True):
        if count < 0:
            raise ValueError(f"{name} is negative: {count}")
    return counts


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the price file ({PRICES_ENV}): {exc}") from exc


def parse_prices(data: bytes, source: str) -> dict[str, Price]:
    """The models of a price file; `source` names the file in every error."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: not a valid TOML price file: {exc}") from exc
    unknown = sorted(set(document) - {"models"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (a price file has only [models])")
    models = document.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{source}: key 'models' must be a table of models")
    return {model: _parse_entry(entry, source, model) for model, entry in models.items()}


def _parse_entry(entry: Any, source: str, model: str) -> Price:
    where = f"{source}: model {model!r}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table of prices, like [models.{model!r}]")
    unknown = sorted(set(entry) - PRICE_KEYS)
    if unknown:
        allowed = ", ".join(sorted(PRICE_KEYS))
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {allowed})")
    for key in REQUIRED_KEYS:
        if key not in entry:
            raise ConfigError(f"{where}: missing required key {key!r}")
    return Price(**{key: _rate(value, where, key) for key, value in entry.items()})


def _rate(value: Any, where: str, key: str) -> float:
    # bool is an int in Python, and TOML allows nan and inf: none of them is a price.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{where}: key {key!r} must be a number >= 0 (USD per 1M tokens), got {value!r}"
        )
    return float(value)


def unpriced_models(prices: PriceTable, chain: list[tuple[str, str]]) -> list[str]:
    """The "provider:model" entries of a model chain that the price table cannot price."""
    return [f"{provider}:{model}" for provider, model in chain
            if not prices.is_priced(provider, model)]
