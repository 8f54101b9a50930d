"""Voice wired into the bot, without the engines: the webhook lets a voice message through,
the job payload carries its recording, the answer job hears only what it must fetch, the
spoken reply is attached once (or the text stands with a note), and the ledger counts it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from gptbot.config import Config
from gptbot.config.voice import VoiceConfig
from gptbot.core.errors import BadRequest
from gptbot.core.types import CallTag
from gptbot.jobs.job import AnswerJob
from gptbot.jobs.voice_steps import TEXT_ONLY_NOTE, SpokenAnswer, VoiceSteps
from gptbot.services import build_services
from gptbot.voice.errors import NothingToHear, SpeechFailed, VoiceNotSetUp
from gptbot.voice.service import Heard
from gptbot.voice.usage import HEARD, heard, spoken
from gptbot.web.app import create_app
from gptbot.web.webhook import parse_command
from tests.costs.test_accountant import NOW, accountant, rows
from tests.support.common import command_payload, encode, make_config, signed_headers

RECORDING = {"type": "voiceRecording", "asset_url": "https://x.stream-io-cdn.com/a.m4a",
             "mime_type": "audio/mp4"}
OTHER = {"type": "image", "image_url": "https://x.stream-io-cdn.com/i.png"}
JOB = AnswerJob("msg:m1", "gpt-m1", "messaging", "general", None, "alice", "Alice", "")


def voice_payload(args: str = "", **message: Any) -> dict[str, Any]:
    payload = command_payload(args, message_id="m1")
    payload["message"].update(message)
    return payload


# -- the webhook ----------------------------------------------------------------------------


@pytest.fixture
def web(tmp_path):
    def make(voice: VoiceConfig) -> tuple[Any, Any]:
        services = build_services(make_config(tmp_path, voice=voice))
        made.append(services)
        return create_app(services.config, services).test_client(), services

    made: list[Any] = []
    yield make
    for services in made:
        services.close()


def post(client: Any, payload: dict[str, Any]) -> dict[str, Any]:
    body = encode(payload)
    return client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body)).get_json()


def queued(services: Any) -> dict[str, Any]:
    return services.queue.huey.dequeue().args[0]


def test_a_voice_message_alone_is_a_question_and_its_recording_rides_in_the_job(web):
    client, services = web(VoiceConfig(stt="local", tts="off"))
    message = post(client, voice_payload(attachments=[OTHER, RECORDING]))["message"]
    assert message.get("type", "regular") == "regular"
    payload = queued(services)
    assert payload["attachments"] == [RECORDING] and payload["message_id"] == "m1"
    assert json.loads(json.dumps(payload)) == payload
    assert AnswerJob.from_payload(payload).command_message()["attachments"] == [RECORDING]


def test_voice_asks_for_a_spoken_answer_and_leaves_the_question(web):
    client, services = web(VoiceConfig())
    post(client, voice_payload("voice What is Stream?", quoted_message_id="q-1"))
    payload = queued(services)
    assert (payload["spoken"], payload["question"]) == (True, "What is Stream?")
    assert payload["quoted_message_id"] == "q-1"


def test_with_voice_off_a_recording_alone_gets_the_polite_ephemeral(web):
    client, services = web(VoiceConfig())
    message = post(client, voice_payload(attachments=[RECORDING]))["message"]
    assert message == {"type": "ephemeral", "text": VoiceNotSetUp.user_message}
    assert services.queue.pending() == 0


@pytest.mark.parametrize("args", ["", "voice"])
def test_nothing_to_hear_or_ask_is_still_help(web, args):
    client, services = web(VoiceConfig(stt="local"))
    message = post(client, voice_payload(args))["message"]
    assert message["type"] == "ephemeral" and "/gpt <question>" in message["text"]
    assert services.queue.pending() == 0


def test_quoted_message_id_is_checked_like_parent_id():
    call = parse_command(encode(voice_payload("hi", quoted_message_id="q-1")), "wh")
    assert call.quoted_message_id == "q-1"
    with pytest.raises(BadRequest, match="quoted_message_id"):
        parse_command(encode(voice_payload("hi", quoted_message_id="../x")), "wh")


def test_an_old_payload_still_decodes():
    old = {k: v for k, v in JOB.to_payload().items()
           if k not in ("spoken", "message_id", "attachments", "quoted_message_id",
                        "quoted_message")}
    assert AnswerJob.from_payload(old) == JOB


# -- the job's steps -----------------------------------------------------------------------


@dataclass
class FakeService:
    """VoiceService's face, recording what the job asked of it."""

    transcript: str = "what is the capital of france"
    cached: bool = False
    transcriber: object | None = "whisper"
    speaker: object | None = "piper"
    config: VoiceConfig = field(default_factory=VoiceConfig)
    heard_from: list[tuple] = field(default_factory=list)
    fail_speech: bool = False

    def hear(self, message, quoted=None, parent=None) -> Heard | None:
        self.heard_from.append((message, quoted, parent))
        found = [m for m in (message, quoted, parent, message.get("quoted_message"))
                 if m and m.get("attachments")]
        if not found:
            return None
        usage = None if self.cached else heard("local", "tiny.en", 2.0)
        return Heard(self.transcript, 2.0, found[0]["id"], usage)

    def speak(self, text, synthesizer=None):
        if self.fail_speech:
            raise SpeechFailed("onnx blew up")
        from gptbot.voice.service import SpokenReply

        return SpokenReply(b"m4a", 1.5, [0.5] * 100, "voice_reply.m4a", text,
                           spoken("local", "joe", 1.5, len(text)))


class FakeStream:
    def __init__(self, messages: dict[str, dict]) -> None:
        self.messages = messages
        self.fetched: list[str] = []
        self.updates: list[tuple[str, dict]] = []
        self.uploads: list[str] = []
        self.client = self

    def get_message(self, message_id: str) -> dict:
        self.fetched.append(message_id)
        return self.messages[message_id]

    def channel(self, *cid: str) -> FakeStream:
        return self

    def call(self, function, *args):
        return function(*args)

    def send_file(self, path, name, user, content_type) -> dict:
        self.uploads.append(name)
        return {"file": f"http://cdn/{name}"}

    def update_message(self, message_id: str, fields: dict, user_id: str) -> None:
        self.updates.append((message_id, fields))


class FakeWriter:
    def __init__(self) -> None:
        self.message_id = "gpt-m1"
        self.target = type("Target", (), {"cid": ("messaging", "general")})()
        self.steps = type("Steps", (), {"attachments": [{"type": "ai_tool_call"}]})()
        self.notes: list[str] = []

    def finish(self, note: str = "") -> None:
        self.notes.append(note)


class FakeLedger:
    def __init__(self) -> None:
        self.recorded: list[tuple[CallTag, Any]] = []

    def record_voice(self, tag: CallTag, usage: Any) -> None:
        self.recorded.append((tag, usage))


def steps(service: FakeService, messages: dict[str, dict] | None = None) -> VoiceSteps:
    return VoiceSteps(service, FakeStream(messages or {}), "gpt-bot", FakeLedger())  # type: ignore[arg-type]


def job(**changes: Any) -> AnswerJob:
    from dataclasses import replace

    return replace(JOB, **changes)


def test_a_recording_on_the_command_itself_needs_no_fetch():
    voice = steps(FakeService())
    heard_job, found = voice.hear(job(message_id="m1", attachments=[RECORDING],
                                      quoted_message_id="q-1", parent_id="p-1"))
    assert voice.stream.fetched == [] and found is not None
    assert heard_job.question == "what is the capital of france"
    [(tag, usage)] = voice.accountant.recorded
    assert (tag.reply_id, usage.purpose) == ("gpt-m1", HEARD)


def test_the_quote_is_fetched_first_and_the_parent_only_if_still_needed():
    quoted = {"id": "q-1", "attachments": [RECORDING]}
    voice = steps(FakeService(), {"q-1": quoted, "p-1": {"id": "p-1"}})
    voice.hear(job(question="summarize", quoted_message_id="q-1", parent_id="p-1"))
    assert voice.stream.fetched == ["q-1"]
    plain = steps(FakeService(), {"q-1": {"id": "q-1"}, "p-1": {"id": "p-1"}})
    plain.hear(job(question="summarize", quoted_message_id="q-1", parent_id="p-1"))
    assert plain.stream.fetched == ["q-1", "p-1"]


def test_an_embedded_quote_is_not_fetched_and_the_typed_text_is_the_instruction():
    embedded = {"id": "q-1", "attachments": [RECORDING]}
    voice = steps(FakeService(cached=True))
    heard_job, _ = voice.hear(job(question="translate", quoted_message_id="q-1",
                                  quoted_message=embedded))
    assert voice.stream.fetched == []
    assert heard_job.question == "translate\n\nVoice message: what is the capital of france"
    assert voice.accountant.recorded == []  # a cached transcript costs nothing


def test_with_voice_off_a_typed_question_is_answered_and_nothing_is_fetched():
    voice = steps(FakeService(transcriber=None), {"p-1": {"id": "p-1"}})
    assert voice.hear(job(question="hi", parent_id="p-1")) == (job(question="hi",
                                                                   parent_id="p-1"), None)
    assert voice.stream.fetched == []


def test_nothing_to_hear_and_no_question_is_a_voice_error():
    with pytest.raises(NothingToHear):
        steps(FakeService()).hear(job())


def test_no_speaker_means_a_text_only_note_for_a_spoken_request():
    voice = steps(FakeService(speaker=None))
    assert voice.notes(job(spoken=True)) == [TEXT_ONLY_NOTE]
    assert voice.notes(job()) == []


def spoken_answer() -> SpokenAnswer:
    return SpokenAnswer(FakeWriter(), object(), 100)  # type: ignore[arg-type]


def test_the_spoken_reply_is_uploaded_once_and_keeps_the_ai_steps():
    voice = steps(FakeService(), {"gpt-m1": {"id": "gpt-m1", "attachments": []}})
    writer = FakeWriter()
    voice.attach(job(spoken=True), writer, spoken_answer(), "Paris.", "")  # type: ignore[arg-type]
    [(message_id, fields)] = voice.stream.updates
    assert message_id == "gpt-m1" and voice.stream.uploads == ["voice_reply.m4a"]
    assert [a["type"] for a in fields["attachments"]] == ["ai_tool_call", "voiceRecording"]
    assert fields["attachments"][1]["asset_url"] == "http://cdn/voice_reply.m4a"
    assert writer.notes == []
    again = steps(FakeService(), {"gpt-m1": {"attachments": fields["attachments"]}})
    again.attach(job(spoken=True), writer, spoken_answer(), "Paris.", "")  # type: ignore[arg-type]
    assert again.stream.uploads == [] and again.stream.updates == []


def test_when_speech_fails_the_text_stands_with_a_short_note():
    voice = steps(FakeService(fail_speech=True), {"gpt-m1": {"id": "gpt-m1"}})
    writer = FakeWriter()
    voice.attach(job(spoken=True), writer, spoken_answer(), "Paris.", "Memory was cut.")  # type: ignore[arg-type]
    assert writer.notes == [f"Memory was cut. {SpeechFailed.user_message}"]
    assert voice.stream.uploads == [] and voice.stream.updates == []


# -- the ledger ----------------------------------------------------------------------------


def test_voice_usage_is_a_ledger_row_and_counts_toward_the_budgets(stores):
    books = accountant(stores, user_daily_usd=1.0)
    tag = CallTag("gpt-m1", "alice", "messaging:general")
    books.record_voice(tag, heard("openai", "whisper-1", 90.0))
    [row] = rows(stores)
    assert (row.purpose, row.provider, row.model) == (HEARD, "openai", "whisper-1")
    assert row.cost_usd == pytest.approx(0.009) and row.total_s == 90.0
    assert row.at == NOW
    spent = {(c.scope, c.period): v for c, v in books.quotas.read(tag).items()
             if c.metric == "usd"}
    assert spent[("user", "day")] == spent[("app", "month")] == 9_000  # micro-dollars


def test_config_reads_the_voice_settings():
    env = {"STREAM_API_KEY": "k", "STREAM_API_SECRET": "s", "GPTBOT_VOICE": "openai",
           "GPTBOT_VOICE_TTS": "off", "GPTBOT_VOICE_MAX_S": "30"}
    voice = Config.from_env(env).voice
    assert (voice.stt, voice.tts, voice.max_seconds) == ("openai", "off", 30)
