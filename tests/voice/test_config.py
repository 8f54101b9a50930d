"""GPTBOT_VOICE* settings."""

from __future__ import annotations

import pytest

from gptbot.config import voice as voice_config
from gptbot.config.voice import VoiceConfig
from gptbot.core.errors import ConfigError


def test_the_default_is_local_with_the_extra_and_off_without(monkeypatch):
    monkeypatch.setattr(voice_config, "voice_extra_installed", lambda: True)
    assert (VoiceConfig.from_env({}).stt, VoiceConfig.from_env({}).tts) == ("local", "local")
    monkeypatch.setattr(voice_config, "voice_extra_installed", lambda: False)
    off = VoiceConfig.from_env({})
    assert (off.stt, off.tts, off.enabled) == ("off", "off", False)


def test_defaults_of_the_caps_and_openai_names():
    config = VoiceConfig.from_env({"GPTBOT_VOICE": "off"})
    assert (config.max_seconds, config.max_bytes, config.spoken_chars) == (120, 10_000_000, 600)
    assert config.openai_stt_model == "gpt-4o-mini-transcribe"
    assert (config.openai_tts_model, config.openai_voice) == ("gpt-4o-mini-tts", "alloy")


def test_each_direction_may_be_overridden():
    config = VoiceConfig.from_env({"GPTBOT_VOICE": "openai", "GPTBOT_VOICE_TTS": "OFF"})
    assert (config.stt, config.tts, config.enabled) == ("openai", "off", True)
    config = VoiceConfig.from_env({"GPTBOT_VOICE": "off", "GPTBOT_VOICE_STT": "local"})
    assert (config.stt, config.tts) == ("local", "off")


def test_every_setting_is_read():
    config = VoiceConfig.from_env({
        "GPTBOT_VOICE": "local", "GPTBOT_VOICE_MAX_S": "30", "GPTBOT_VOICE_MAX_BYTES": "2048",
        "GPTBOT_VOICE_SPOKEN_CHARS": "200", "GPTBOT_VOICE_STT_MODEL": "whisper-1",
        "GPTBOT_VOICE_TTS_MODEL": "tts-1", "GPTBOT_VOICE_TTS_VOICE": "marin"})
    assert (config.max_seconds, config.max_bytes, config.spoken_chars) == (30, 2048, 200)
    assert (config.openai_stt_model, config.openai_tts_model, config.openai_voice) == (
        "whisper-1", "tts-1", "marin")


@pytest.mark.parametrize(("name", "value", "words"), [
    ("GPTBOT_VOICE", "loud", "GPTBOT_VOICE must be off, local or openai"),
    ("GPTBOT_VOICE_STT", "whisper", "GPTBOT_VOICE_STT must be off, local or openai"),
    ("GPTBOT_VOICE_MAX_S", "two minutes", "GPTBOT_VOICE_MAX_S must be a whole number"),
    ("GPTBOT_VOICE_MAX_S", "0", "GPTBOT_VOICE_MAX_S must be at least 1"),
    ("GPTBOT_VOICE_MAX_BYTES", "10", "GPTBOT_VOICE_MAX_BYTES must be at least 1024"),
    ("GPTBOT_VOICE_SPOKEN_CHARS", "-5", "GPTBOT_VOICE_SPOKEN_CHARS must be at least 50"),
])
def test_bad_values_are_config_errors_naming_the_setting(name, value, words):
    with pytest.raises(ConfigError, match=words):
        VoiceConfig.from_env({name: value})


def test_the_config_is_frozen():
    with pytest.raises(AttributeError):
        VoiceConfig().stt = "local"  # type: ignore[misc]
