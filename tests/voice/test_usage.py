"""Seconds and cost of voice steps."""

from __future__ import annotations

import pytest

from gptbot.voice.usage import HEARD, SPOKEN, heard, spoken, voice_cost


def test_local_engines_cost_nothing():
    assert voice_cost("local", "whisper-tiny.en", 600) == 0.0
    assert spoken("local", "piper-en_US-joe-medium", 30, 500).cost_usd == 0.0


@pytest.mark.parametrize(("model", "per_minute"), [
    ("whisper-1", 0.006), ("gpt-4o-mini-transcribe", 0.003), ("gpt-4o-transcribe", 0.006)])
def test_transcription_is_priced_per_minute(model, per_minute):
    usage = heard("openai", model, 90)
    assert usage.purpose == HEARD and usage.seconds == 90 and usage.characters == 0
    assert usage.cost_usd == pytest.approx(1.5 * per_minute)


def test_speech_is_priced_per_character_or_per_minute():
    assert spoken("openai", "tts-1", 20, 1000).cost_usd == pytest.approx(0.015)
    per_minute = spoken("openai", "gpt-4o-mini-tts", 120, 1000)
    assert per_minute.purpose == SPOKEN and per_minute.cost_usd == pytest.approx(0.03)


def test_an_unknown_compatible_model_is_unpriced_not_free():
    assert heard("openai", "faster-whisper-large", 60).cost_usd is None
