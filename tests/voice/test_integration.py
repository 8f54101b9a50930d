"""The real engines on this CPU: a question spoken by espeak-ng is heard (through the
emulator's CDN, as a Stream voice message), and the spoken reply reads back as its text."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat

from gptbot.config.voice import VoiceConfig
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from gptbot.stream.api import StreamApi
from gptbot.stream.files import upload_file
from gptbot.voice.cache import MemoryTranscriptCache
from gptbot.voice.hosts import HostPolicy
from gptbot.voice.service import VoiceService
from tests.voice.conftest import (
    QUESTION,
    espeak_wav,
    needs_espeak,
    needs_extra,
    voice_message,
    word_error_rate,
    words,
)

pytestmark = [needs_extra, needs_espeak]
REPLY = ("The capital of France is Paris. It has been the country's largest city for "
         "centuries, and about two million people live there.")


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> VoiceService:
    built = VoiceService.build(
        VoiceConfig(stt="local", tts="local"), MemoryTranscriptCache(), stream_chat_url=None,
        openai_base_url="unused", openai_api_key=None,
        marker_dir=tmp_path_factory.mktemp("markers"))
    assert built.problems == ()
    return built


def test_word_error_rate_counts_edits_per_reference_word():
    assert word_error_rate("the capital of France", "The capital of France.") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5


def test_an_espeak_question_is_heard_from_the_emulators_cdn(voice, tmp_path):
    state = EmulatorState()
    with start_server(create_emulator_app(state)) as server:
        api = StreamApi(StreamChat(state.api_key, state.api_secret, base_url=server.url))
        api.client.channel("messaging", "v").create("alice")
        wav = espeak_wav(tmp_path / "q.wav", QUESTION).read_bytes()
        url = upload_file(api, ("messaging", "v"), wav, "q.wav", "audio/wav", "alice")
        local = VoiceService(voice.config, HostPolicy.for_stream(server.url),
                             voice.cache, voice.transcriber, voice.speaker)
        heard = local.hear({"id": "cmd", "text": "/gpt"}, parent=voice_message(url, "note"))
    assert heard is not None and "capital of france" in " ".join(words(heard.transcript))
    assert heard.usage is not None and heard.usage.cost_usd == 0.0 and heard.seconds > 1


def test_the_spoken_reply_matches_its_duration_and_reads_back_as_its_text(voice):
    from gptbot.voice import audio

    reply = voice.speak(REPLY)
    decoded = audio.decode(reply.audio)
    assert reply.mime_type == "audio/mp4" and reply.file_size == len(reply.audio)
    assert reply.duration == pytest.approx(audio.seconds(decoded, audio.STT_RATE), rel=0.10)
    assert len(reply.waveform) == 100 and all(0.0 <= v <= 1.0 for v in reply.waveform)
    assert voice.transcriber is not None
    assert word_error_rate(REPLY, voice.transcriber.transcribe(decoded)) <= 0.25
