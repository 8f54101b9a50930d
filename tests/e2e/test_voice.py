"""Voice notes through the whole loop (issue 15): a question spoken by espeak-ng is uploaded
to the emulator with the real SDK, sent with `/gpt` through the dev app (emulator and
playground), heard by the local Whisper, answered by a loopback LLM, and, for `/gpt voice`,
spoken back as a `voiceRecording` attachment that reads back as the reply's text."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from stream_chat import StreamChat

from gptbot.config.voice import VoiceConfig
from gptbot.emulator import send_user_message
from gptbot.voice import audio
from gptbot.voice.errors import HostNotAllowed, NotUnderstood, VoiceNotSetUp
from gptbot.voice.usage import HEARD, SPOKEN
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.loop import Loop, chunks, wait_for, whole_loop
from tests.support.servers import FakeLLM, serve
from tests.voice.conftest import QUESTION, espeak_wav, needs_espeak, needs_extra, words
from tests.voice.conftest import word_error_rate as wer

pytestmark = [needs_extra, needs_espeak]
CHANNEL = ("messaging", "general")
ALICE = {"id": "alice", "name": "Alice"}
REPLY = "The capital of France is Paris. It is also the largest city in the country."
LOCAL = VoiceConfig(stt="local", tts="local")
WAIT_S = 60  # Whisper and the voice model on a shared 2-core CPU


def fake_llm() -> FakeLLM:
    return FakeLLM(sse_chat_stream(chunks(REPLY, 9)), piece_sizes=(1, 16), delay=0.002)


@contextmanager
def voice_loop(tmp: Path, voice: VoiceConfig = LOCAL) -> Iterator[Loop]:
    with whole_loop(tmp, fake_llm(), voice=voice) as loop:
        loop.state.ensure_channel(*CHANNEL, "alice")
        yield loop


def upload(loop: Loop, data: bytes, name: str = "question.wav") -> str:
    """As a chat client does: the SDK's channel file upload, answering the CDN URL."""
    path = Path(loop.services.config.data_dir) / name
    path.write_bytes(data)
    client = StreamChat(API_KEY, API_SECRET, base_url=loop.url)
    answer = client.channel(*CHANNEL).send_file(str(path), name, {"id": "alice"}, "audio/wav")
    return str(answer["file"])


def spoken_question(tmp: Path, text: str = QUESTION) -> bytes:
    return espeak_wav(tmp / "spoken.wav", text).read_bytes()


def ask(loop: Loop, text: str, url: str, **kw: Any) -> dict[str, Any]:
    recording = {"type": "voiceRecording", "asset_url": url, "mime_type": "audio/wav",
                 "title": "question.wav"}
    return send_user_message(loop.state, *CHANNEL, ALICE, text,
                             extra={"attachments": [recording]}, **kw)


def final_reply(loop: Loop, question: dict[str, Any], attached: bool = False) -> dict:
    def done() -> dict | None:
        reply = loop.state.messages.get(f"gpt-{question['id']}")
        if not reply or reply.get("generating"):
            return None
        return reply if not attached or recordings(reply) else None

    return wait_for(done, WAIT_S, "the finished reply")


def recordings(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in message.get("attachments") or [] if a.get("type") == "voiceRecording"]


def asked(loop: Loop) -> str:
    return str(loop.llm.requests[-1]["json"]["messages"][-1]["content"])


def ledger_purposes(loop: Loop) -> list[str]:
    rows = loop.services.stores.ledger.rows(0.0, float("inf"))
    return [row.purpose for row in rows]


def test_a_voice_question_is_heard_quoted_and_answered(tmp_path):
    with voice_loop(tmp_path) as loop:
        question = ask(loop, "/gpt", upload(loop, spoken_question(tmp_path)))
        assert question["type"] == "regular"  # the voice message stays in the channel
        reply = final_reply(loop, question)
        assert "capital of france" in " ".join(words(asked(loop)))
        quote, _, answer = reply["text"].partition("\n\n")
        assert quote.startswith("> 🎤 ") and "capital of france" in " ".join(words(quote))
        assert answer == REPLY and recordings(reply) == []
        assert HEARD in ledger_purposes(loop)


def test_a_spoken_reply_matches_its_audio_and_reads_back_as_its_text(tmp_path, caplog):
    caplog.set_level(logging.INFO, "gptbot.jobs.voice_steps")
    with voice_loop(tmp_path) as loop:
        question = ask(loop, "/gpt voice", upload(loop, spoken_question(tmp_path)),
                       deliveries=2)
        reply = final_reply(loop, question, attached=True)
        [attachment] = recordings(reply)
        data = requests.get(attachment["asset_url"], timeout=10).content
        samples = audio.decode(data)
        assert attachment["mime_type"] == "audio/mp4" and attachment["file_size"] == len(data)
        assert attachment["duration"] == pytest.approx(
            audio.seconds(samples, audio.STT_RATE), rel=0.10)
        waveform = attachment["waveform_data"]
        assert len(waveform) == 100 and all(0.0 <= v <= 1.0 for v in waveform)
        assert max(waveform) > 0.1  # speech, not silence
        transcriber = loop.services.answerer.voice.service.transcriber
        assert wer(REPLY, transcriber.transcribe(samples)) <= 0.25
        # The duplicate delivery started nothing: one model call, one upload besides ours.
        assert len(loop.llm.requests) == 1 and len(loop.state.files) == 2
        assert ledger_purposes(loop).count(SPOKEN) == 1
    assert any("attached" in r.getMessage() for r in caplog.records)


def test_a_foreign_host_is_refused_without_a_request(tmp_path):
    hits: list[str] = []

    class Foreign(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

    with serve(Foreign) as foreign, voice_loop(tmp_path) as loop:
        question = ask(loop, "/gpt", foreign.url + "/note.wav")
        reply = final_reply(loop, question)
    assert reply["text"] == HostNotAllowed.user_message
    assert hits == [] and loop.llm.requests == []


def test_an_over_long_recording_is_refused_with_a_clear_message(tmp_path):
    long_question = " ".join([QUESTION] * 4)  # about eight seconds
    with voice_loop(tmp_path, VoiceConfig(stt="local", tts="off", max_seconds=3)) as loop:
        question = ask(loop, "/gpt", upload(loop, spoken_question(tmp_path, long_question)))
        reply = final_reply(loop, question)
    assert re.search(r"too long: I listen to at most 3 seconds", reply["text"])
    assert loop.llm.requests == []


def test_corrupt_audio_gets_a_friendly_error_and_the_bot_carries_on(tmp_path):
    with voice_loop(tmp_path) as loop:
        broken = ask(loop, "/gpt", upload(loop, b"RIFF\x00\x00not really a wave file" * 40))
        assert final_reply(loop, broken)["text"] == NotUnderstood.user_message
        assert loop.llm.requests == []
        typed = send_user_message(loop.state, *CHANNEL, ALICE, "/gpt What is the capital?")
        assert final_reply(loop, typed)["text"] == REPLY  # the worker lives on


def test_with_voice_off_a_spoken_question_still_gets_its_text_answer(tmp_path):
    off = VoiceConfig()
    with voice_loop(tmp_path, off) as loop:
        typed = send_user_message(loop.state, *CHANNEL, ALICE, "/gpt voice What is the capital?")
        reply = final_reply(loop, typed)
        assert reply["text"].startswith(REPLY) and recordings(reply) == []
        assert asked(loop) == "What is the capital?"
        note = ask(loop, "/gpt", upload(loop, b"RIFF"))
        assert note["type"] == "ephemeral" and note["text"] == VoiceNotSetUp.user_message
        assert len(loop.llm.requests) == 1


# -- the playground: what a `gptbot dev` user sees ----------------------------------------

PLAYGROUND = "/playground/api"


def record_in_playground(loop: Loop, data: bytes) -> str:
    """The page's microphone: POST the WAV to the playground's own upload route."""
    form = {"channel_type": CHANNEL[0], "channel_id": CHANNEL[1], "user": "alice"}
    files = {"file": ("recording.wav", data, "audio/wav")}
    answer = requests.post(loop.url + PLAYGROUND + "/upload", data=form, files=files, timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["file"])


def send_in_playground(loop: Loop, text: str, url: str) -> dict[str, Any]:
    recording = {"type": "voiceRecording", "asset_url": url, "mime_type": "audio/wav",
                 "duration": 1.8, "waveform_data": [0.5] * 100}
    body = {"text": text, "user": "alice", "channel_type": CHANNEL[0],
            "channel_id": CHANNEL[1], "attachments": [recording]}
    answer = requests.post(loop.url + PLAYGROUND + "/send", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["message"]


def playground_history(loop: Loop) -> list[dict[str, Any]]:
    path = f"{PLAYGROUND}/channels/{CHANNEL[0]}/{CHANNEL[1]}/messages"
    answer = requests.get(loop.url + path, params={"user": "alice"}, timeout=10)
    return list(answer.json()["messages"])


def test_the_playground_shows_the_quoted_transcript_and_the_spoken_reply(tmp_path):
    with voice_loop(tmp_path) as loop:
        url = record_in_playground(loop, spoken_question(tmp_path))
        question = send_in_playground(loop, "/gpt voice", url)
        final_reply(loop, question, attached=True)
        shown = {m["id"]: m for m in playground_history(loop)}
    reply = shown[f"gpt-{question['id']}"]
    assert reply["text"].startswith("> 🎤 ") and reply["text"].endswith(REPLY)
    assert [a["mime_type"] for a in recordings(reply)] == ["audio/mp4"]
    assert recordings(shown[question["id"]])  # the question's own voice note is shown too


def test_the_playground_shows_a_voice_error_and_the_voice_off_note(tmp_path):
    with voice_loop(tmp_path, VoiceConfig()) as loop:
        note = send_in_playground(loop, "/gpt", record_in_playground(loop, b"RIFF"))
        shown = playground_history(loop)
    assert note["type"] == "ephemeral"
    assert VoiceNotSetUp.user_message in [m["text"] for m in shown]
