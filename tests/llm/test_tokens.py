"""Offline token estimates and the prompt budget."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gptbot.config import Config
from gptbot.core.types import ChatMessage
from gptbot.llm.tokens import (
    DEFAULT_CONTEXT,
    DEFAULT_PROMPT_CAP,
    MIN_PROMPT,
    clip_to_tokens,
    context_window,
    estimate_tokens,
    messages_tokens,
    prompt_budget,
)


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("", 0),
        ("Hello, world!", 4),  # a real tokenizer says 4
        ("The quick brown fox jumps over the lazy dog. " * 10, 100),  # real: 100
        ("これは日本語の文です。", 11),  # about one token per character
        ("🙂🙂🙂", 6),  # emoji are several tokens each
        ("Ünïcödé", 4),
    ],
)
def test_estimates_do_not_undercount_typical_text(text, at_least):
    assert estimate_tokens(text) >= at_least


def test_estimates_stay_reasonable_for_english():
    text = "The quick brown fox jumps over the lazy dog. " * 100  # about 1000 real tokens
    assert 1000 <= estimate_tokens(text) <= 1600


def test_messages_carry_framing_overhead():
    messages = [ChatMessage("system", ""), ChatMessage("user", "")]
    assert messages_tokens(messages) == 3 + 2 * 4


@pytest.mark.parametrize(
    ("model", "provider", "window"),
    [
        ("gpt-4o-mini", "openai", 128_000),
        ("gpt-4.1-mini", "openai", 1_047_576),
        ("gpt-4", "openai", 8_192),
        ("claude-3-5-haiku-latest", "anthropic", 200_000),
        ("gemini-2.0-flash", "gemini", 1_048_576),
        ("openai/gpt-4o", "openai", 128_000),
        ("llama3.2", "ollama", 4_096),  # Ollama's own default context, whatever the model
        ("my-azure-deployment", "azure", DEFAULT_CONTEXT),
    ],
)
def test_context_windows_come_from_the_table_or_a_safe_default(model, provider, window):
    assert context_window(model, provider) == window


def test_the_setting_overrides_the_table():
    assert context_window("llama3.2", "ollama", override=32_768) == 32_768


def config(**kw):
    base = {"model": "gpt-4o-mini", "provider": "openai", "max_tokens": 1024,
            "context_tokens": 0, "prompt_tokens": Config.prompt_tokens}
    return SimpleNamespace(**{**base, **kw})


def test_budget_is_capped_for_cost_by_default():
    assert prompt_budget(config()) == DEFAULT_PROMPT_CAP


def test_budget_leaves_room_for_the_answer_and_a_margin():
    budget = prompt_budget(config(model="gpt-4", prompt_tokens=0))
    assert budget == 8_192 - 1024 - 8_192 // 20


def test_budget_never_goes_below_a_minimum():
    assert prompt_budget(config(model="gpt-4", max_tokens=8000)) == MIN_PROMPT


def test_settings_change_the_budget():
    assert prompt_budget(config(prompt_tokens=2000)) == 2000
    assert prompt_budget(config(context_tokens=4000, prompt_tokens=0)) == 4000 - 1024 - 200


def test_clipping_keeps_the_newest_lines():
    lines = [f"line {n} " + "x" * 30 for n in range(10)]
    kept = clip_to_tokens(lines, 40)
    assert kept == lines[-len(kept) :] and 0 < len(kept) < 10
    assert clip_to_tokens(lines, 0) == []
