"""The OpenAI-compatible engines, against `responses`: what is sent, what comes back."""

from __future__ import annotations

import json

import pytest
import responses

from gptbot.voice.errors import EngineFailed, SpeechFailed
from tests.voice.conftest import needs_extra, tone

pytestmark = needs_extra
BASE = "https://llm.example.test/v1"


@pytest.fixture
def web():
    with responses.RequestsMock() as mock:
        yield mock


def test_transcription_posts_a_wav_with_the_model_and_key(web):
    from gptbot.voice.stt import OpenAITranscriber

    call = web.post(f"{BASE}/audio/transcriptions", json={"text": " Paris? "})
    text = OpenAITranscriber(BASE + "/", "sk-test", "whisper-1").transcribe(tone(1.0))
    assert text == "Paris?"
    sent = call.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert b'name="model"\r\n\r\nwhisper-1' in sent.body
    assert b'filename="voice.wav"' in sent.body and b"RIFF" in sent.body


@pytest.mark.parametrize("answer", [{"status": 500}, {"status": 200, "body": "oops"},
                                    {"status": 200, "json": {"error": "no text"}}])
def test_transcription_failures_are_engine_failures(web, answer):
    from gptbot.voice.stt import OpenAITranscriber

    web.post(f"{BASE}/audio/transcriptions", **answer)
    with pytest.raises(EngineFailed):
        OpenAITranscriber(BASE, None, "whisper-1").transcribe(tone(0.5))


def test_speech_asks_for_pcm_and_returns_24_khz_samples(web):
    import numpy as np

    from gptbot.voice.tts import OPENAI_PCM_RATE, OpenAISpeaker

    pcm = (np.array([0, 16384, -32768, 32767], dtype="<i2")).tobytes() + b"\x01"  # odd tail
    call = web.post(f"{BASE}/audio/speech", body=pcm)
    speaker = OpenAISpeaker(BASE, "sk-test", "gpt-4o-mini-tts", "marin")
    samples = speaker.synthesize("Hello.")
    assert speaker.sample_rate == OPENAI_PCM_RATE == 24_000
    assert samples.tolist() == pytest.approx([0.0, 0.5, -1.0, 32767 / 32768])
    body = json.loads(call.calls[0].request.body)
    assert body == {"model": "gpt-4o-mini-tts", "voice": "marin", "input": "Hello.",
                    "response_format": "pcm"}


def test_speech_failures_are_speech_failures(web):
    from gptbot.voice.tts import OpenAISpeaker

    web.post(f"{BASE}/audio/speech", status=429)
    with pytest.raises(SpeechFailed):
        OpenAISpeaker(BASE, None, "tts-1", "alloy").synthesize("Hi.")
