"""Which recording a `/gpt` command is about (pure functions over message dicts)."""

from __future__ import annotations

from gptbot.voice.trigger import find_voice, is_voice, voice_of, wants_spoken_reply
from tests.voice.conftest import voice_message

CDN = "https://us-east.stream-io-cdn.com/1/attachments/a.wav?Expires=1&Signature=x"


def test_a_voice_recording_on_the_command_message_is_found_with_its_fields():
    command = voice_message(CDN, "cmd", duration="4.5", file_size=1200, title="note.wav")
    found = find_voice(command)
    assert found is not None
    assert (found.message_id, found.asset_url, found.duration, found.file_size) == (
        "cmd", CDN, 4.5, 1200)
    assert found.title == "note.wav" and found.mime_type == "audio/wav"


def test_an_audio_file_counts_and_other_attachments_do_not():
    assert is_voice({"type": "file", "asset_url": CDN, "mime_type": "audio/mp4"})
    assert not is_voice({"type": "file", "asset_url": CDN, "mime_type": "application/pdf"})
    assert not is_voice({"type": "image", "image_url": CDN})
    assert not is_voice({"type": "voiceRecording"})  # no asset_url: nothing to fetch
    message = {"id": "m", "attachments": [{"type": "image", "asset_url": CDN},
                                          {"type": "file", "asset_url": CDN,
                                           "mime_type": "AUDIO/WEBM"}]}
    found = voice_of(message)
    assert found is not None and found.mime_type == "AUDIO/WEBM"


def test_the_command_comes_first_then_the_quoted_message_then_the_thread_parent():
    command = {"id": "cmd", "text": "/gpt summarise", "attachments": []}
    quoted, parent = voice_message(CDN, "quoted"), voice_message(CDN, "parent")
    assert find_voice(voice_message(CDN, "cmd"), quoted, parent).message_id == "cmd"
    assert find_voice(command, quoted, parent).message_id == "quoted"
    assert find_voice(command, None, parent).message_id == "parent"
    assert find_voice(command) is None


def test_a_quoted_message_embedded_by_stream_is_used_when_none_was_fetched():
    command = {"id": "cmd", "quoted_message": voice_message(CDN, "embedded")}
    assert find_voice(command).message_id == "embedded"


def test_malformed_fields_are_ignored_not_trusted():
    message = {"id": "m", "attachments": ["junk", {"type": "voiceRecording", "asset_url": CDN,
                                                   "duration": "long", "file_size": True}]}
    found = voice_of(message)
    assert found is not None and found.duration is None and found.file_size is None
    assert voice_of({"id": "m", "attachments": "not a list"}) is None
    assert voice_of(None) is None


def test_gpt_voice_asks_for_a_spoken_answer():
    assert wants_spoken_reply("voice what is the capital?") == (True, "what is the capital?")
    assert wants_spoken_reply("VOICE") == (True, "")
    assert wants_spoken_reply("voiceover tips") == (False, "voiceover tips")
    assert wants_spoken_reply(" what is a voice? ") == (False, "what is a voice?")
