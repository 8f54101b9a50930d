"""The facade the answer job calls: hear, speak, and the attachment for the reply."""

from __future__ import annotations

import json

import pytest
import responses

from gptbot.config.voice import VoiceConfig
from gptbot.voice import errors, service
from gptbot.voice.cache import MemoryTranscriptCache
from gptbot.voice.hosts import HostPolicy
from gptbot.voice.service import VoiceService, voice_attachment, voice_question
from tests.voice.conftest import encode_as, needs_extra, tone, voice_message
from tests.voice.fakes import BeepSpeaker, ScriptedTranscriber

pytestmark = needs_extra
CDN = "https://us-east.stream-io-cdn.com/1/attachments/q.webm?Expires=9&Signature=s"
CONFIG = VoiceConfig(stt="openai", tts="local", max_seconds=5)


def make(transcriber=None, speaker=None, config=CONFIG) -> VoiceService:
    return VoiceService(config, HostPolicy.for_stream(None), MemoryTranscriptCache(),
                        transcriber, speaker, clock=lambda: 1_765_000_000.0)


@pytest.fixture
def web():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve_tone(web, seconds: float = 2.0) -> None:
    web.get(CDN, body=encode_as(tone(seconds, 48_000), 48_000, "webm", "libopus"))


def test_hear_transcribes_the_recording_and_quotes_it(web):
    serve_tone(web)
    voice = make(ScriptedTranscriber("What is the capital of France?"))
    heard = voice.hear({"id": "cmd", "text": "/gpt"}, quoted=voice_message(CDN, "note"))
    assert heard is not None and heard.transcript == "What is the capital of France?"
    assert heard.message_id == "note" and heard.seconds == pytest.approx(2.0, abs=0.1)
    assert heard.quote == "> 🎤 What is the capital of France?"
    assert heard.usage is not None and heard.usage.purpose == "voice_transcription"
    assert heard.usage.cost_usd == pytest.approx(2.0 / 60 * 0.006, rel=0.1)  # whisper-1


def test_a_second_hearing_of_the_same_recording_comes_from_the_cache(web):
    serve_tone(web)
    transcriber = ScriptedTranscriber("hello")
    voice = make(transcriber)
    voice.hear(voice_message(CDN))
    again = voice.hear(voice_message(CDN))
    assert transcriber.calls == 1 and again is not None and again.usage is None
    assert voice.cache.latest("m1") == "hello"


def test_no_recording_is_none_and_nothing_is_fetched(web):
    assert make(ScriptedTranscriber("x")).hear({"id": "cmd", "text": "/gpt hi"}) is None
    assert len(web.calls) == 0


def test_with_hearing_off_a_recording_gets_not_set_up(web):
    with pytest.raises(errors.VoiceNotSetUp) as raised:
        make(None).hear(voice_message(CDN))
    assert raised.value.user_message.startswith("Sorry, voice is not set up here.")
    assert len(web.calls) == 0


def test_a_foreign_asset_url_is_refused_without_a_request(web):
    foreign = web.get("https://evil.test/a.webm", body=b"x")
    with pytest.raises(errors.HostNotAllowed):
        make(ScriptedTranscriber("x")).hear(voice_message("https://evil.test/a.webm"))
    assert foreign.call_count == 0


def test_a_recording_longer_than_declared_is_refused_after_decoding(web):
    serve_tone(web, seconds=7.0)
    with pytest.raises(errors.TooLong) as raised:
        make(ScriptedTranscriber("x")).hear(voice_message(CDN, duration=3))
    assert "at most 5 seconds" in raised.value.user_message


@pytest.mark.parametrize(("body", "transcript"), [(b"\x00garbage" * 100, "x"), (None, "")])
def test_corrupt_audio_or_an_empty_transcript_is_not_understood(web, body, transcript):
    web.get(CDN, body=body or encode_as(tone(1.0, 48_000), 48_000, "webm", "libopus"))
    with pytest.raises(errors.NotUnderstood):
        make(ScriptedTranscriber(transcript)).hear(voice_message(CDN))


def test_an_engine_crash_becomes_a_friendly_engine_failure(web):
    serve_tone(web)
    broken = ScriptedTranscriber("x")
    broken.transcribe = lambda samples: (_ for _ in ()).throw(RuntimeError("ctranslate2"))
    with pytest.raises(errors.EngineFailed):
        make(broken).hear(voice_message(CDN))


def test_speak_gives_an_m4a_reply_and_the_stream_attachment():
    reply = make(speaker=BeepSpeaker()).speak("**Paris.** It is the capital of France.")
    assert reply.audio[4:8] == b"ftyp" and reply.mime_type == "audio/mp4"
    assert reply.text == "Paris. It is the capital of France."
    assert reply.duration == pytest.approx(0.01 * 33 + 0.25, abs=0.02)
    assert len(reply.waveform) == 100 and max(reply.waveform) == 1.0
    assert reply.title == "voice_reply_2025-12-06T05-46-40Z.m4a"
    assert reply.usage.purpose == "voice_speech" and reply.usage.cost_usd == 0.0
    attachment = voice_attachment("https://cdn.test/r.m4a", reply)
    assert attachment == {
        "type": "voiceRecording", "asset_url": "https://cdn.test/r.m4a", "title": reply.title,
        "mime_type": "audio/mp4", "file_size": len(reply.audio), "duration": reply.duration,
        "waveform_data": reply.waveform}
    assert len(json.dumps(attachment)) < 5000  # Stream's custom-data limit


def test_speak_uses_what_the_synthesizer_already_spoke():
    speaker = BeepSpeaker()
    voice = make(speaker=speaker)
    synthesizer = voice.synthesizer()
    synthesizer.feed("One. Two")
    voice.speak("One. Two.", synthesizer)
    assert speaker.spoken == ["One.", "Two."]


def test_with_speaking_off_speak_is_not_set_up():
    with pytest.raises(errors.VoiceNotSetUp):
        make(ScriptedTranscriber("x")).speak("Hello.")


def test_an_encoding_failure_is_a_speech_failure(monkeypatch):
    monkeypatch.setattr(service.audio, "encode_m4a", lambda *a: 1 / 0)
    with pytest.raises(errors.SpeechFailed) as raised:
        make(speaker=BeepSpeaker()).speak("Hello.")
    assert raised.value.user_message == "(I could not add a spoken version of this answer.)"


def test_the_typed_text_is_kept_as_an_instruction_beside_the_transcript():
    assert voice_question("what is it", "") == "what is it"
    assert voice_question("what is it", " summarise ") == "summarise\n\nVoice message: what is it"


def test_build_leaves_out_what_cannot_run_and_says_why(monkeypatch):
    monkeypatch.setattr(service, "voice_extra_installed", lambda: False)
    voice = VoiceService.build(VoiceConfig(stt="local", tts="local"), MemoryTranscriptCache(),
                               stream_chat_url=None, openai_base_url="x", openai_api_key=None)
    assert voice.transcriber is None and voice.speaker is None
    assert voice.problems == (service.NO_EXTRA,)


def test_build_makes_the_configured_engines(monkeypatch, tmp_path):
    monkeypatch.setattr(service, "espeak_path", lambda: None)
    cloud = VoiceService.build(VoiceConfig(stt="openai", tts="local"), MemoryTranscriptCache(),
                               stream_chat_url="http://127.0.0.1:9", openai_base_url="https://o/v1",
                               openai_api_key="k", marker_dir=tmp_path)
    assert cloud.transcriber is not None and cloud.transcriber.engine == "openai"
    assert cloud.speaker is None and "espeak-ng" in cloud.problems[0]
    assert cloud.hosts.allows("http://127.0.0.1:9/cdn/x")
