"""The response cache: key normalisation, and reuse of first-turn answers within the TTL.

Expected keys are never recomputed here: equal or different keys, and hand-written
normalised questions, are the expectations.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gptbot.conversation.answer_cache import AnswerCache, cache_key, normalise_question
from gptbot.store.sqlite import open_sqlite
from tests.support.fakes import FakeClock

SYSTEM, MODEL = "You are a helpful assistant.", "gpt-4o-mini"


def full_width(text: str) -> str:
    """ASCII as its full-width forms (U+FF01..U+FF5E, and U+3000 for a space)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


def key(question: str, system: str = SYSTEM, model: str = MODEL) -> str | None:
    return cache_key(question, system, model)


# --- normalisation and keys ---------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "what is   stream chat",
        "WHAT IS STREAM CHAT",
        "  What is Stream Chat?!  ",
        "What\tis\nStream\u00a0Chat…",  # tab, newline, no-break space, an ellipsis
        full_width("What is Stream Chat?"),  # compatibility forms (NFKC)
        "«What is Stream Chat»",
        "What is “Stream Chat”?",
        "¿What is Stream Chat?",
    ],
)
def test_case_space_and_punctuation_variants_share_a_key(variant):
    assert key(variant) == key("What is Stream Chat?")


@pytest.mark.parametrize(
    ("question", "normalised"),
    [
        ("What is Stream Chat?", "what is stream chat"),
        (f"  {full_width('W')}hat\u2019s  UP?! ", "what s up"),
        ("Straße", "strasse"),
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
        ("is 1.5 > 15?", "is 1 5 > 15"),  # a symbol (>) is kept; punctuation becomes a space
        ("C++ vs C#", "c++ vs c"),
        ("ﬁle №5", "file no5"),
    ],
)
def test_normalised_questions(question, normalised):
    assert normalise_question(question) == normalised


@pytest.mark.parametrize(
    ("question", "system", "model"),
    [
        ("What is Stream Chat?", SYSTEM, "gpt-4o"),
        ("What is Stream Chat?", "You are a pirate.", MODEL),
        ("What is Stream Chat?", SYSTEM + " ", MODEL),  # the system prompt is compared exactly
        ("What is Stream?", SYSTEM, MODEL),
        ("What is Stream Chat for?", SYSTEM, MODEL),
        ("Chat is what Stream?", SYSTEM, MODEL),
        ("WhatisStreamChat", SYSTEM, MODEL),
    ],
)
def test_a_different_model_prompt_or_wording_gets_a_different_key(question, system, model):
    assert key(question, system, model) != key("What is Stream Chat?")


def test_numbers_apart_only_by_punctuation_stay_apart():
    assert key("What is 1.5 squared?") != key("What is 15 squared?")


@pytest.mark.parametrize("question", ["", "   ", "?!", "…\n¿¡", "«»—“”", "\u3000。"])
def test_a_question_with_no_words_has_no_key(question):
    assert key(question) is None


def test_a_key_is_hex_and_holds_no_user_text():
    found = key("Tell me about Alice's secret project")
    assert found is not None and re.fullmatch(r"[0-9a-f]{64}", found)
    assert "alice" not in found.casefold()


def test_the_parts_of_a_key_cannot_be_shifted_into_each_other():
    assert key("b c", system="a", model="m") != key("c", system="a b", model="m")
    assert key("q", system="s", model="m x") != key("q", system="x s", model="m")


WHITESPACE = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000\u2028", min_size=1, max_size=3)


@st.composite
def respaced(draw: st.DrawFn, question: str) -> str:
    """The same words, with every run of whitespace (and the ends) spaced differently."""
    words = question.split()
    gaps = [draw(WHITESPACE) for _ in range(max(len(words) - 1, 0))]
    parts = [words[0]] if words else []
    for gap, word in zip(gaps, words[1:], strict=True):
        parts += [gap, word]
    ends = st.one_of(st.just(""), WHITESPACE)
    return draw(ends) + "".join(parts) + draw(ends)


@given(st.data(), st.text(max_size=40))
def test_upper_cased_and_respaced_questions_share_a_key(data, question):
    assert key(question.upper()) == key(question)
    assert key(data.draw(respaced(question))) == key(question)


@given(st.text(max_size=40))
def test_a_key_exists_exactly_when_words_remain(question):
    assert (key(question) is None) == (normalise_question(question) == "")


# --- AnswerCache ----------------------------------------------------------------------------


class RecordingStore:
    """An AnswerCacheStore that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.answers: dict[str, str] = {}

    def get(self, key: str, now: float) -> str | None:
        self.calls.append(("get", (key, now)))
        return self.answers.get(key)

    def put(self, key: str, answer: str, expires_at: float, now: float) -> None:
        self.calls.append(("put", (key, answer, expires_at, now)))
        self.answers[key] = answer

    def prune_answers(self, now: float) -> int:
        return 0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(tmp_path, clock):
    stores = open_sqlite(tmp_path / "cache.db")
    yield AnswerCache(stores.answers, ttl=300, clock=clock)
    stores.close()


def test_a_remembered_answer_is_found_for_a_variant_of_the_question(cache):
    cache.remember("What is Stream Chat?", SYSTEM, MODEL, "A chat API.")
    assert cache.lookup("what is   stream chat", SYSTEM, MODEL) == "A chat API."


def test_nothing_is_found_before_anything_is_remembered(cache):
    assert cache.lookup("What is Stream Chat?", SYSTEM, MODEL) is None


def test_an_answer_is_reused_only_for_the_same_prompt_and_model(cache):
    cache.remember("What is Stream Chat?", SYSTEM, MODEL, "A chat API.")
    assert cache.lookup("What is Stream Chat?", "You are a pirate.", MODEL) is None
    assert cache.lookup("What is Stream Chat?", SYSTEM, "gpt-4o") is None


def test_an_answer_lasts_for_the_ttl(cache, clock):
    cache.remember("What is Stream Chat?", SYSTEM, MODEL, "A chat API.")
    clock.now += 299.9
    assert cache.lookup("What is Stream Chat?", SYSTEM, MODEL) == "A chat API."
    clock.now += 0.1
    assert cache.lookup("What is Stream Chat?", SYSTEM, MODEL) is None


def test_a_later_answer_replaces_an_earlier_one_and_restarts_the_ttl(cache, clock):
    cache.remember("What is Stream Chat?", SYSTEM, MODEL, "first")
    clock.now += 200
    cache.remember("What is Stream Chat?", SYSTEM, MODEL, "second")
    clock.now += 200
    assert cache.lookup("What is Stream Chat?", SYSTEM, MODEL) == "second"


def test_the_store_is_given_the_clock_and_the_expiry(clock):
    store = RecordingStore()
    cache = AnswerCache(store, ttl=60, clock=clock)
    cache.remember("Hi?", SYSTEM, MODEL, "Hello.")
    cache.lookup("hi", SYSTEM, MODEL)
    (put, (put_key, answer, expires_at, now)), (get, (get_key, get_now)) = store.calls
    assert (put, answer, expires_at, now) == ("put", "Hello.", 1060.0, 1000.0)
    assert (get, get_key, get_now) == ("get", put_key, 1000.0)


@pytest.mark.parametrize("answer", ["", "   ", "\n\t "])
def test_an_empty_answer_is_never_remembered(clock, answer):
    store = RecordingStore()
    AnswerCache(store, ttl=60, clock=clock).remember("Hi?", SYSTEM, MODEL, answer)
    assert store.calls == []


def test_a_question_with_no_words_is_neither_looked_up_nor_remembered(clock):
    store = RecordingStore()
    cache = AnswerCache(store, ttl=60, clock=clock)
    cache.remember("?!", SYSTEM, MODEL, "Pardon?")
    assert cache.lookup("?!", SYSTEM, MODEL) is None
    assert store.calls == []


def test_ttl_zero_does_nothing(clock):
    store = RecordingStore()
    store.answers[key("Hi?") or ""] = "from an earlier run"
    cache = AnswerCache(store, ttl=0, clock=clock)
    cache.remember("Hi?", SYSTEM, MODEL, "Hello.")
    assert cache.lookup("Hi?", SYSTEM, MODEL) is None
    assert store.calls == []
    assert not cache.enabled


def test_a_negative_ttl_is_refused(clock):
    with pytest.raises(ValueError):
        AnswerCache(RecordingStore(), ttl=-1, clock=clock)
