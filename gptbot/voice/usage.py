"""What a voice step used and cost: seconds of audio heard or spoken, characters spoken,
and US dollars. Local engines cost nothing.

Prices are the price table's assumption (OpenAI's audio list prices as given in issue 15;
not read from openai.com/api/pricing here, which could not be browsed): verify them before
relying on the budgets. Transcription is billed per minute of audio; tts-1 per million
characters; gpt-4o-mini-tts is priced per minute of speech as an estimate (OpenAI bills it
by audio tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

PER_MINUTE_USD = {
    "whisper-1": 0.006,
    "gpt-4o-mini-transcribe": 0.003,
    "gpt-4o-transcribe": 0.006,
    "gpt-4o-mini-tts": 0.015,  # ~: an estimate of its audio-token price
}
PER_MILLION_CHARS_USD = {"tts-1": 15.0, "tts-1-hd": 30.0}
HEARD, SPOKEN = "voice_transcription", "voice_speech"  # the ledger's `purpose`


@dataclass(frozen=True, slots=True)
class VoiceUsage:
    purpose: str  # HEARD | SPOKEN
    engine: str  # "local" | "openai": the ledger's provider
    model: str
    seconds: float
    characters: int  # spoken characters (0 for transcription)
    cost_usd: float | None  # None = an OpenAI-compatible model with no known price


def voice_cost(engine: str, model: str, seconds: float, characters: int = 0) -> float | None:
    if engine == "local":
        return 0.0
    if model in PER_MILLION_CHARS_USD:
        return characters * PER_MILLION_CHARS_USD[model] / 1_000_000
    if model in PER_MINUTE_USD:
        return seconds / 60 * PER_MINUTE_USD[model]
    return None


def heard(engine: str, model: str, seconds: float) -> VoiceUsage:
    return VoiceUsage(HEARD, engine, model, seconds, 0, voice_cost(engine, model, seconds))


def spoken(engine: str, model: str, seconds: float, characters: int) -> VoiceUsage:
    cost = voice_cost(engine, model, seconds, characters)
    return VoiceUsage(SPOKEN, engine, model, seconds, characters, cost)
