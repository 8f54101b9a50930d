"""The playground's voice notes: upload a recording, send it with /gpt as a voiceRecording
attachment; the command webhook sees the attachment, and the file is served from the CDN."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from gptbot.emulator import EmulatorState, start_server
from gptbot.emulator.playground import create_dev_app

API = "/playground/api"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 64


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
def client(state: EmulatorState) -> FlaskClient:
    return create_dev_app(state, heartbeat_s=0.05).test_client()


@pytest.fixture
def hook(state: EmulatorState) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    handler = Flask("handler")

    @handler.post("/webhook")
    def webhook() -> dict[str, Any]:
        seen.append(request.get_json()["message"])
        return {"message": seen[-1]}

    with start_server(handler) as server:
        state.create_command({"name": "gpt", "description": "Ask the AI", "args": "[question]"})
        state.update_channel_type("messaging", {"commands": ["gpt"]})
        state.update_app({"custom_action_handler_url": server.url + "/webhook"})
        yield seen


def upload(client: FlaskClient, data: bytes = WAV, mime: str = "audio/wav") -> Any:
    form = {"file": (io.BytesIO(data), "rec.wav", mime), "channel_type": "messaging",
            "channel_id": "general", "user": "alice"}
    return client.post(f"{API}/upload", data=form, content_type="multipart/form-data")


def voice(url: str, **fields: Any) -> dict[str, Any]:
    return {"type": "voiceRecording", "asset_url": url, "mime_type": "audio/wav",
            "duration": 1.5, "waveform_data": [0.1, 0.5, 1.0], **fields}


def test_a_recording_is_uploaded_and_served_from_the_emulator_cdn(client, state):
    answer = upload(client)
    assert answer.status_code == 201
    url = answer.get_json()["file"]
    assert url.startswith("http://localhost/cdn/")
    served = client.get(url.removeprefix("http://localhost"))
    assert served.status_code == 200 and served.data == WAV and served.mimetype == "audio/wav"
    assert len(state.files) == 1


def test_only_audio_is_uploaded(client):
    answer = upload(client, b"<html>", "text/html")
    assert answer.status_code == 400 and "only audio" in answer.get_json()["error"]


def test_gpt_with_a_voice_recording_reaches_the_webhook_with_its_attachment(client, hook):
    url = upload(client).get_json()["file"]
    sent = client.post(f"{API}/send", json={"text": "/gpt", "user": "alice",
                                            "attachments": [voice(url)]})
    assert sent.status_code == 201
    assert [m["attachments"] for m in hook] == [[voice(url)]]
    assert hook[0]["command"] == "gpt" and hook[0]["args"] == ""
    assert sent.get_json()["message"]["attachments"] == [voice(url)]


def test_attachment_fields_are_cleaned(client, hook):
    odd = voice("http://localhost/cdn/x", duration=float("nan"), waveform_data=[5, -1, "x", 0.25],
                extra="dropped")
    client.post(f"{API}/send", json={"text": "/gpt", "user": "alice", "attachments": [odd]})
    attachment = hook[0]["attachments"][0]
    assert attachment["duration"] == 0.0 and attachment["waveform_data"] == [1.0, 0.0, 0.0, 0.25]
    assert "extra" not in attachment


@pytest.mark.parametrize("attachments", [[{"type": "image", "asset_url": "http://x/y"}],
                                         [voice("javascript:alert(1)")], "nope",
                                         [voice("http://a/b"), voice("http://a/c")]])
def test_other_attachments_are_refused(client, attachments):
    sent = client.post(f"{API}/send", json={"text": "/gpt", "user": "alice",
                                            "attachments": attachments})
    assert sent.status_code == 400


def test_a_voice_note_without_text_may_be_sent(client):
    url = upload(client).get_json()["file"]
    sent = client.post(f"{API}/send", json={"text": "", "user": "alice",
                                            "attachments": [voice(url)]})
    assert sent.status_code == 201
