"""The reply's audio uploaded through gptbot.stream.files to the emulator's channel file
upload (the real stream-chat SDK), fetched back through the voice download's allow-list,
and attached to a message as Stream's voiceRecording."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses
from stream_chat import StreamChat

from gptbot.emulator import EmulatorState, RunningServer, create_emulator_app, start_server
from gptbot.emulator.files import file_id_of
from gptbot.stream.api import StreamApi
from gptbot.stream.files import UploadFailed, upload_file
from gptbot.voice.download import fetch
from gptbot.voice.hosts import HostPolicy
from tests.voice.conftest import needs_extra

AUDIO = b"\x00\x00\x00\x18ftypM4A " + bytes(range(256)) * 8


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorState, RunningServer]]:
    state = EmulatorState()
    with start_server(create_emulator_app(state)) as server:
        yield state, server


@pytest.fixture
def api(emulator) -> StreamApi:
    state, server = emulator
    client = StreamChat(state.api_key, state.api_secret, base_url=server.url)
    client.channel("messaging", "voice").create("gpt-bot")
    return StreamApi(client, sleep=lambda _s: None)


def test_an_upload_answers_a_url_the_voice_download_may_fetch(emulator, api):
    state, server = emulator
    url = upload_file(api, ("messaging", "voice"), AUDIO, "voice reply 1.m4a", "audio/mp4",
                      "gpt-bot")
    assert url.startswith(f"{server.url}/cdn/") and "voice_reply_1.m4a" in url
    stored = state.files.get(file_id_of(url) or "")
    assert stored is not None
    assert (stored.user_id, stored.content_type, stored.name) == (
        "gpt-bot", "audio/mp4", "voice_reply_1.m4a")
    hosts = HostPolicy.for_stream(server.url)
    assert fetch(url, hosts, 1_000_000, requests.Session()) == AUDIO
    assert not HostPolicy.for_stream(None).allows(url)  # only because STREAM_CHAT_URL is set


@needs_extra
def test_the_uploaded_reply_goes_out_as_a_voice_recording_attachment(api):
    from gptbot.config.voice import VoiceConfig
    from gptbot.voice.cache import MemoryTranscriptCache
    from gptbot.voice.service import VoiceService, voice_attachment
    from tests.voice.fakes import BeepSpeaker

    voice = VoiceService(VoiceConfig(tts="local"), HostPolicy(), MemoryTranscriptCache(),
                         speaker=BeepSpeaker())
    reply = voice.speak("Paris is the capital of France.")
    url = upload_file(api, ("messaging", "voice"), reply.audio, reply.title, reply.mime_type,
                      "gpt-bot")
    sent = api.send_message(("messaging", "voice"), {
        "text": "Paris.", "attachments": [voice_attachment(url, reply)]}, "gpt-bot")
    [attachment] = api.get_message(sent["id"])["attachments"]
    assert attachment["type"] == "voiceRecording" and attachment["asset_url"] == url
    assert attachment["duration"] == reply.duration and len(attachment["waveform_data"]) == 100


def test_an_answer_without_a_file_url_is_an_upload_failure(tmp_path):
    client = StreamChat("key", "a-secret-for-tests-long-enough-for-hs256", base_url="https://stream.example.test")
    with responses.RequestsMock() as web:
        web.post("https://stream.example.test/channels/messaging/voice/file",
                 json={"duration": "1ms"})
        with pytest.raises(UploadFailed):
            upload_file(StreamApi(client), ("messaging", "voice"), b"x", "a.m4a",
                        "audio/mp4", "gpt-bot")
