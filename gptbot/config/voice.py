"""Voice settings: which engines hear and speak (off, local or openai), and the caps.

GPTBOT_VOICE sets both directions; GPTBOT_VOICE_STT and GPTBOT_VOICE_TTS override one each.
Without GPTBOT_VOICE the default is `local` when the `voice` extra is installed, else `off`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass

from gptbot.config.env import get, int_setting
from gptbot.core.errors import ConfigError

ENGINES = ("off", "local", "openai")
# The `voice` extra's engines; looked up, not imported (find_spec of a top-level name).
EXTRA_MODULES = ("av", "faster_whisper", "onnxruntime")
MB = 1_000_000


@dataclass(frozen=True)
class VoiceConfig:
    stt: str = "off"  # GPTBOT_VOICE_STT (else GPTBOT_VOICE): off | local | openai
    tts: str = "off"  # GPTBOT_VOICE_TTS (else GPTBOT_VOICE): off | local | openai
    max_seconds: int = 120  # GPTBOT_VOICE_MAX_S: longest recording listened to
    max_bytes: int = 10 * MB  # GPTBOT_VOICE_MAX_BYTES: largest recording downloaded
    spoken_chars: int = 600  # GPTBOT_VOICE_SPOKEN_CHARS: longest spoken reply
    openai_stt_model: str = "gpt-4o-mini-transcribe"  # GPTBOT_VOICE_STT_MODEL
    openai_tts_model: str = "gpt-4o-mini-tts"  # GPTBOT_VOICE_TTS_MODEL
    openai_voice: str = "alloy"  # GPTBOT_VOICE_TTS_VOICE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VoiceConfig:
        both = _engine(env, "GPTBOT_VOICE", "local" if voice_extra_installed() else "off")
        return cls(
            stt=_engine(env, "GPTBOT_VOICE_STT", both),
            tts=_engine(env, "GPTBOT_VOICE_TTS", both),
            max_seconds=int_setting(env, "GPTBOT_VOICE_MAX_S", 120, minimum=1),
            max_bytes=int_setting(env, "GPTBOT_VOICE_MAX_BYTES", 10 * MB, minimum=1024),
            spoken_chars=int_setting(env, "GPTBOT_VOICE_SPOKEN_CHARS", 600, minimum=50),
            openai_stt_model=get(env, "GPTBOT_VOICE_STT_MODEL") or cls.openai_stt_model,
            openai_tts_model=get(env, "GPTBOT_VOICE_TTS_MODEL") or cls.openai_tts_model,
            openai_voice=get(env, "GPTBOT_VOICE_TTS_VOICE") or cls.openai_voice,
        )

    @property
    def enabled(self) -> bool:
        return self.stt != "off" or self.tts != "off"


def voice_extra_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)


def _engine(env: Mapping[str, str], name: str, default: str) -> str:
    value = (get(env, name) or default).lower()
    if value not in ENGINES:
        raise ConfigError(f"{name} must be off, local or openai, not {value!r}")
    return value
