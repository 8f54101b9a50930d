"""Whether voice can run as configured: the extra installed, espeak-ng on PATH, the weights
present and whole, an OpenAI key for the `openai` engines (gptbot.voice.readiness)."""

from __future__ import annotations

from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.voice.readiness import EXTRA_FIX, voice_extra_installed, voice_problems


def voice(context: Context) -> str:
    config = context.config.voice
    if not config.enabled and not voice_extra_installed():
        return f"off: the voice extra is not installed ({EXTRA_FIX} turns it on)"
    if not config.enabled:
        return "off (GPTBOT_VOICE=off)"
    problems = voice_problems(config, context.config.openai_api_key)
    if problems:
        first = problems[0]
        raise Problem("voice.not_ready", what=first.what, fix=first.fix)
    return f"hearing: {config.stt}, speaking: {config.tts}"
