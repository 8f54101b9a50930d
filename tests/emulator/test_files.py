"""Channel file uploads on the emulator (UploadChannelFile/Image, DeleteChannelFile) and the
signed CDN URLs it serves them from, driven by the real stream-chat SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.emulator import EmulatorState, RunningServer, create_emulator_app, start_server
from gptbot.emulator.files import URL_TTL_S

AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorState, RunningServer]]:
    state = EmulatorState()
    with start_server(create_emulator_app(state)) as server:
        yield state, server


@pytest.fixture
def channel(emulator, tmp_path):
    state, server = emulator
    client = StreamChat(state.api_key, state.api_secret, base_url=server.url)
    channel = client.channel("messaging", "files")
    channel.create("alice")
    (tmp_path / "note.wav").write_bytes(AUDIO)
    return channel


def test_an_upload_answers_a_signed_url_on_the_emulator_host_that_serves_the_bytes(
    emulator, channel, tmp_path
):
    state, server = emulator
    answer = channel.send_file(str(tmp_path / "note.wav"), "note.wav", {"id": "alice"},
                               "audio/wav")
    url = answer["file"]
    assert url.startswith(f"{server.url}/cdn/") and "Expires=" in url and "Signature=" in url
    assert answer["duration"].endswith("ms")  # the request's time, as Stream answers
    fetched = requests.get(url, timeout=5)  # no api_key, no token: a CDN URL
    assert fetched.status_code == 200 and fetched.content == AUDIO
    assert fetched.headers["Content-Type"] == "audio/wav"
    assert state.requests["UploadChannelFile"] == 1


def test_a_range_request_gets_a_part(channel, tmp_path):
    url = channel.send_file(str(tmp_path / "note.wav"), "n.wav", {"id": "alice"}, "audio/wav")
    part = requests.get(url["file"], headers={"Range": "bytes=4-11"}, timeout=5)
    assert part.status_code == 206 and part.content == AUDIO[4:12]
    assert part.headers["Content-Range"] == f"bytes 4-11/{len(AUDIO)}"
    tail = requests.get(url["file"], headers={"Range": "bytes=-4"}, timeout=5)
    assert tail.content == AUDIO[-4:]


def test_a_forged_or_expired_url_is_forbidden(emulator, channel, tmp_path):
    state, _server = emulator
    url = channel.send_file(str(tmp_path / "note.wav"), "n.wav", {"id": "alice"})["file"]
    forged = url.replace("Signature=", "Signature=0")
    assert requests.get(forged, timeout=5).status_code == 403
    other = url.replace("/cdn/", "/cdn/0")
    assert requests.get(other, timeout=5).status_code == 403
    now = state.clock()
    state.clock = lambda: now + URL_TTL_S + 60
    assert requests.get(url, timeout=5).status_code == 403


def test_an_image_upload_has_a_thumb_url_and_delete_removes_the_file(emulator, channel, tmp_path):
    state, _server = emulator
    answer = channel.send_image(str(tmp_path / "note.wav"), "n.png", {"id": "alice"},
                                "image/png")
    assert answer["thumb_url"] == answer["file"]
    channel.delete_image(answer["file"])
    assert requests.get(answer["file"], timeout=5).status_code == 403
    kept = channel.send_file(str(tmp_path / "note.wav"), "n.wav", {"id": "alice"})["file"]
    channel.delete_file(kept)
    assert len(state.files) == 0 and state.requests["DeleteChannelFile"] == 1


def test_uploads_need_a_user_a_file_and_an_existing_channel(emulator, channel, tmp_path):
    state, server = emulator
    client = channel.client
    with pytest.raises(StreamAPIException, match="user is a required field"):
        channel.send_file(str(tmp_path / "note.wav"), "n.wav", {})
    with pytest.raises(StreamAPIException, match="doesn't exist"):
        client.channel("messaging", "nowhere").send_file(str(tmp_path / "note.wav"), "n.wav",
                                                        {"id": "alice"})
    no_file = requests.post(f"{server.url}/channels/messaging/files/file",
                            params={"api_key": state.api_key}, data={"user": '{"id": "a"}'},
                            headers={"Authorization": client.auth_token}, timeout=5)
    assert no_file.status_code == 400 and "file is a required field" in no_file.json()["message"]
    unsigned = requests.post(f"{server.url}/channels/messaging/files/file",
                             params={"api_key": state.api_key}, timeout=5)
    assert unsigned.status_code == 401
