"""The price table, its lookup rule, the override file and the cost arithmetic.

Expected dollar amounts are worked out by hand in each test, not with the code under test.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from gptbot.costs import FREE_PROVIDERS, Price, PriceTable, cost_usd, worst_case_cost

# ConfigError is taken from prices.py: the errors module is moving, and this is the one it raises.
from gptbot.costs.prices import ZERO, ConfigError

HAS_HYPOTHESIS = importlib.util.find_spec("hypothesis") is not None


@dataclass
class Usage:
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- the shipped table -------------------------------------------------------------------


def test_every_shipped_entry_loads_with_positive_input_and_output(table):
    assert len(table.prices) >= 20
    for model, price in table.prices.items():
        assert price.input > 0, model
        assert price.output > 0, model


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-3-5-haiku-latest"),
        ("gemini", "gemini-2.0-flash"),
    ],
)
def test_each_providers_default_model_is_priced(table, provider, model):
    assert table.is_priced(provider, model)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3-mini",
        "o4-mini",
        "claude-3-5-haiku",
        "claude-3-5-sonnet",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-1.5-flash",
        "deepseek-chat",
        "deepseek-reasoner",
        "mistral-small-latest",
        "mistral-large-latest",
        "llama-3.1-8b-instant",
        "llama-3.3-70b-versatile",
    ],
)
def test_common_models_are_in_the_table(table, model):
    assert model in table.prices


def test_anthropic_cache_rates_follow_anthropics_multipliers(table):
    for model in (
        "claude-3-5-haiku",
        "claude-3-5-sonnet",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4",
    ):
        price = table.prices[model]
        assert price.cache_write == pytest.approx(1.25 * price.input), model
        assert price.cached_input == pytest.approx(0.1 * price.input), model


def test_gpt_4o_mini_list_price(table):
    assert table.price_for("openai", "gpt-4o-mini") == Price(
        input=0.15, output=0.60, cached_input=0.075
    )


# --- lookup --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "known"),
    [
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("gemini-1.5-flash-latest", "gemini-1.5-flash"),
        ("models/gemini-2.0-flash", "gemini-2.0-flash"),
    ],
)
def test_snapshots_and_aliases_price_as_their_model(table, model, known):
    assert table.price_for("anthropic", model) == table.prices[known]


def test_the_family_with_the_shorter_name_never_prices_a_longer_one(table):
    assert table.price_for("openai", "gpt-4o").input == 2.50
    assert table.price_for("openai", "gpt-4o-mini").input == 0.15
    assert table.price_for("openai", "gpt-4o-mini-2024-07-18").input == 0.15
    assert table.price_for("openai", "gpt-4.1-2025-04-14").input == 2.00


def test_an_exact_entry_wins_over_the_snapshot_rule(table):
    # gpt-4o's first snapshot kept its launch price of $5 / $15.
    assert table.price_for("openai", "gpt-4o-2024-05-13") == Price(input=5.0, output=15.0)


@pytest.mark.parametrize(
    "model",
    [
        "no-such-model",
        "",
        "gpt-4o-mini-audio-preview",  # another model of the family
        "gpt-4o-realtime-preview-2024-12-17",
        "gpt-4",  # a known name's prefix is not the known name
        "gpt-4o-m",
        "claude-opus-4-1-20250805",  # a later release, not a snapshot
        "gemini-2.0-flash-lite-001",
        "gemini-2.5-flash-preview-05-20",
        "gpt-4o-mini-2024-07",  # an incomplete date
        "gpt-4o-mini-latest-2024-07-18",  # one suffix only
        "GPT-4O-MINI",  # names are exact
        "openai/gpt-4o-mini",  # a gateway's name may carry a gateway's price
        "xgpt-4o-mini",
    ],
)
def test_unknown_models_are_unpriced_not_free(table, model):
    assert table.price_for("openai", model) is None
    assert not table.is_priced("openai", model)


@pytest.mark.parametrize("provider", sorted(FREE_PROVIDERS))
@pytest.mark.parametrize("model", ["llama3.2", "gpt-4o", "anything", ""])
def test_local_and_ollama_cost_nothing_whatever_the_model(table, provider, model):
    price = table.price_for(provider, model)
    assert price == ZERO
    assert table.is_priced(provider, model)
    usage = Usage(
        input_tokens=5_000_000,
        cached_input_tokens=1_000,
        cache_write_tokens=10,
        output_tokens=900_000,
        reasoning_tokens=7,
    )
    assert cost_usd(price, usage) == 0.0


def test_the_provider_does_not_change_a_paid_price(table):
    assert table.price_for("azure", "gpt-4o-mini") == table.price_for("openai", "gpt-4o-mini")


# --- cost arithmetic -----------------------------------------------------------------------


def test_cached_prompt_tokens_are_billed_at_the_cached_rate(table):
    price = table.price_for("openai", "gpt-4o-mini")
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=400_000)
    # 600k at 0.15 + 400k at 0.075
    assert cost_usd(price, usage) == pytest.approx(0.6 * 0.15 + 0.4 * 0.075)
    assert cost_usd(price, usage) == pytest.approx(0.12)


def test_anthropic_call_with_cache_read_write_and_output(table):
    price = table.price_for("anthropic", "claude-3-5-haiku-20241022")
    usage = Usage(
        input_tokens=10_000,
        cached_input_tokens=6_000,
        cache_write_tokens=3_000,
        output_tokens=2_000,
    )
    # 1k plain at 0.80, 6k read at 0.08, 3k written at 1.00, 2k out at 4.00, per 1M.
    expected = (1_000 * 0.80 + 6_000 * 0.08 + 3_000 * 1.00 + 2_000 * 4.00) / 1e6
    assert expected == pytest.approx(0.01228)
    assert cost_usd(price, usage) == pytest.approx(expected)


def test_reasoning_tokens_are_billed_at_the_reasoning_rate_when_given():
    price = Price(input=1.0, output=2.0, reasoning=3.5)
    usage = Usage(input_tokens=100, output_tokens=1_000, reasoning_tokens=600)
    # 100 in at 1, 400 plain out at 2, 600 reasoning at 3.5
    assert cost_usd(price, usage) == pytest.approx((100 + 800 + 2_100) / 1e6)


def test_missing_rates_fall_back_to_input_and_output():
    price = Price(input=2.0, output=8.0)
    usage = Usage(
        input_tokens=1_000,
        cached_input_tokens=300,
        cache_write_tokens=200,
        output_tokens=500,
        reasoning_tokens=100,
    )
    assert cost_usd(price, usage) == pytest.approx((1_000 * 2.0 + 500 * 8.0) / 1e6)


def test_none_counts_are_zero_and_missing_attributes_too():
    price = Price(input=1.0, output=2.0)
    assert cost_usd(price, Usage()) == 0.0

    @dataclass
    class Plain:  # a usage report without cache or reasoning fields
        input_tokens: int
        output_tokens: int

    assert cost_usd(price, Plain(1_000_000, 1_000_000)) == pytest.approx(3.0)  # type: ignore[arg-type]


def test_parts_larger_than_their_whole_never_make_a_negative_remainder():
    price = Price(input=1.0, output=2.0, cached_input=0.5)
    usage = Usage(input_tokens=100, cached_input_tokens=300, output_tokens=0)
    assert cost_usd(price, usage) == pytest.approx(300 * 0.5 / 1e6)


def test_negative_counts_are_a_bug_not_a_discount():
    with pytest.raises(ValueError, match="output_tokens"):
        cost_usd(Price(input=1.0, output=1.0), Usage(output_tokens=-1))


def test_worst_case_is_every_prompt_token_at_input_and_the_full_output(table):
    price = table.price_for("openai", "gpt-4o-mini")
    # 10k prompt at 0.15 + 1k output at 0.60
    assert worst_case_cost(price, 10_000, 1_000) == pytest.approx(0.0015 + 0.0006)


def test_worst_case_uses_the_reasoning_rate_when_it_is_higher():
    price = Price(input=1.0, output=2.0, reasoning=5.0)
    assert worst_case_cost(price, 1_000, 1_000) == pytest.approx((1_000 + 5_000) / 1e6)


def test_worst_case_covers_a_prompt_written_to_the_cache(table):
    price = table.price_for("anthropic", "claude-sonnet-4")
    usage = Usage(input_tokens=100_000, cache_write_tokens=100_000, output_tokens=1_000)
    # Writing costs 3.75 per 1M, more than the 3.00 input rate.
    assert cost_usd(price, usage) == pytest.approx((100_000 * 3.75 + 1_000 * 15.0) / 1e6)
    assert worst_case_cost(price, 100_000, 1_000) >= cost_usd(price, usage)


def _usages_within(prompt: int, max_output: int) -> list[Usage]:
    """A grid of consistent usages at the corners and middles of the bounds."""
    result = []
    for used in {0, prompt // 2, prompt}:
        for cached in {0, used // 3, used}:
            for output in {0, max_output // 2, max_output}:
                for reasoning in {0, output}:
                    result.append(Usage(used, cached, used - cached, output, reasoning))
    return result


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-opus-4", "gemini-2.5-pro"])
def test_worst_case_bounds_every_usage_on_a_grid(table, model):
    price = table.prices[model]
    for usage in _usages_within(123_457, 4_097):
        assert cost_usd(price, usage) <= worst_case_cost(price, 123_457, 4_097) * (1 + 1e-12)


if HAS_HYPOTHESIS:
    from hypothesis import given
    from hypothesis import strategies as st

    rates = st.floats(min_value=0, max_value=1_000, allow_nan=False, allow_infinity=False)

    @st.composite
    def bounded_calls(draw):
        price = Price(
            draw(rates),
            draw(rates),
            draw(st.none() | rates),
            draw(st.none() | rates),
            draw(st.none() | rates),
        )
        prompt = draw(st.integers(0, 2_000_000))
        max_output = draw(st.integers(0, 200_000))
        used = draw(st.integers(0, prompt))
        cached = draw(st.integers(0, used))
        written = draw(st.integers(0, used - cached))
        output = draw(st.integers(0, max_output))
        reasoning = draw(st.integers(0, output))
        return price, prompt, max_output, Usage(used, cached, written, output, reasoning)

    @given(bounded_calls())
    def test_worst_case_bounds_every_usage_within_its_bounds(call):
        price, prompt, max_output, usage = call
        bound = worst_case_cost(price, prompt, max_output)
        assert cost_usd(price, usage) <= bound * (1 + 1e-12) + 1e-18


# --- the override file ---------------------------------------------------------------------


def test_an_override_replaces_one_model_and_adds_another(tmp_path):
    path = write(
        tmp_path,
        """
[models."gpt-4o-mini"]
input = 0.20
output = 0.80

[models."my-finetune"]
input = 1.5
cached_input = 0.5
output = 6
""",
    )
    table = PriceTable.load(path)
    # The whole entry is replaced: the shipped cached rate does not survive.
    assert table.price_for("openai", "gpt-4o-mini") == Price(input=0.20, output=0.80)
    assert table.price_for("openai", "my-finetune") == Price(1.5, 6.0, cached_input=0.5)
    assert table.price_for("openai", "gpt-4o") == PriceTable.load().prices["gpt-4o"]
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=400_000)
    # The override has no cached rate: all 1M at 0.20.
    assert cost_usd(table.price_for("openai", "gpt-4o-mini"), usage) == pytest.approx(0.20)


def test_an_overridden_model_also_prices_its_snapshots(tmp_path):
    table = PriceTable.load(write(tmp_path, '[models."my-model"]\ninput = 1\noutput = 2\n'))
    assert table.price_for("openai", "my-model-2025-01-01") == Price(1.0, 2.0)


def test_an_override_may_price_a_model_at_zero(tmp_path):
    table = PriceTable.load(write(tmp_path, '[models."free-tier"]\ninput = 0\noutput = 0\n'))
    assert table.price_for("openai", "free-tier") == Price(0.0, 0.0)


def test_an_empty_override_changes_nothing(tmp_path):
    assert PriceTable.load(write(tmp_path, "")).prices == PriceTable.load().prices


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("output = 0.6", "input"),  # missing
        ("input = 0.15", "output"),  # missing
        ("input = -0.15\noutput = 0.6", "input"),
        ("input = 0.15\noutput = '0.60'", "output"),
        ("input = 0.15\noutput = 0.6\ncached_input = true", "cached_input"),
        ("input = 0.15\noutput = 0.6\ncache_write = nan", "cache_write"),
        ("input = inf\noutput = 0.6", "input"),
        ("input = 0.15\noutput = 0.6\nreasoning = [1]", "reasoning"),
        ("input = 0.15\noutput = 0.6\ncached = 0.075", "cached"),  # unknown key
    ],
)
def test_a_malformed_entry_names_the_file_the_model_and_the_key(tmp_path, entry, key):
    path = write(tmp_path, f'[models."gpt-4o-mini"]\n{entry}\n')
    with pytest.raises(ConfigError) as error:
        PriceTable.load(path)
    message = str(error.value)
    assert path in message
    assert "'gpt-4o-mini'" in message
    assert f"{key!r}" in message


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, '[models."gpt-4o-mini"\ninput = 1\n')
    with pytest.raises(ConfigError, match="not a valid TOML") as error:
        PriceTable.load(path)
    assert path in str(error.value)


def test_an_unknown_top_level_key_is_named(tmp_path):
    path = write(tmp_path, '[model."gpt-4o-mini"]\ninput = 1\noutput = 2\n')
    with pytest.raises(ConfigError, match="unknown key 'model'") as error:
        PriceTable.load(path)
    assert path in str(error.value)


def test_a_model_that_is_not_a_table_is_named(tmp_path):
    path = write(tmp_path, '[models]\n"gpt-4o-mini" = 0.15\n')
    with pytest.raises(ConfigError, match="'gpt-4o-mini'"):
        PriceTable.load(path)


def test_a_missing_override_file_is_a_config_error(tmp_path):
    path = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="cannot read") as error:
        PriceTable.load(path)
    assert path in str(error.value)


def test_prices_are_floats_even_when_written_as_integers(tmp_path):
    table = PriceTable.load(write(tmp_path, '[models."m"]\ninput = 1\noutput = 2\n'))
    price = table.prices["m"]
    assert isinstance(price.input, float) and isinstance(price.output, float)
    assert not math.isnan(price.input)
