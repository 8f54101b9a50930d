"""Piper's phonemes from the espeak-ng program, with the clause punctuation put back."""

from __future__ import annotations

import pytest

from gptbot.voice import phonemes
from gptbot.voice.errors import SpeechFailed
from gptbot.voice.phonemes import clauses, phoneme_ids, phonemize
from tests.voice.conftest import needs_espeak


def test_a_sentence_splits_into_clauses_with_their_punctuation():
    assert clauses("Well, it works; mostly. Right?!") == [
        ("Well", ","), ("it works", ";"), ("mostly", "."), ("Right", "?")]
    assert clauses("no punctuation") == [("no punctuation", "")]
    assert clauses(" ... ") == []


def test_ids_follow_pipers_layout_and_drop_unknown_symbols():
    id_map = {"^": [1], "$": [2], "_": [0], "a": [14], " ": [3], ",": [8]}
    assert phoneme_ids("a, a?", id_map) == [1, 0, 14, 0, 8, 0, 3, 0, 14, 0, 2]


@needs_espeak
def test_espeak_ng_gives_ipa_and_the_pauses_are_restored():
    ipa = phonemize("Hello there, how are you?")
    assert ipa.count(",") == 1 and ipa.endswith("?")
    assert "ð" in ipa  # "there": IPA, not ASCII phoneme names
    assert phonemize("") == ""


@needs_espeak
def test_a_clause_espeak_splits_further_still_gets_its_end():
    assert phonemize("It is big, e.g. huge.").endswith(".")


def test_without_espeak_speaking_fails_politely(monkeypatch):
    monkeypatch.setattr(phonemes, "espeak_path", lambda: None)
    with pytest.raises(SpeechFailed, match="espeak-ng is not on PATH"):
        phonemize("Hello.")
