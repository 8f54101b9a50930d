"""The playground's voice notes: the page uploads a recording (it has no credentials, so
not through UploadChannelFile) and sends it as a `voiceRecording` attachment, as Stream's
React SDK does: 16 kHz WAV, `duration` in seconds, 100 `waveform_data` values in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

from flask import request

from gptbot.emulator.errors import ApiError
from gptbot.emulator.files import MAX_FILE_BYTES

Json = dict[str, Any]
MAX_ATTACHMENTS = 1
WAVEFORM_MAX = 256
# The fields a voice recording carries (stream-chat-js VoiceRecordingAttachment).
KEPT = ("type", "asset_url", "title", "mime_type", "file_size", "duration", "waveform_data")


def upload(state: Any, channel: tuple[str, str], user_id: str) -> Json:
    """Store the page's recording in the emulator's CDN; answers `{"file": url}`."""
    cid = state.ensure_channel(channel[0], channel[1], user_id)["cid"]
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, 4, "file is a required field")
    data = upload.read(MAX_FILE_BYTES + 1)
    if not data or len(data) > MAX_FILE_BYTES:
        raise ApiError(400, 4, f"a recording is 1 to {MAX_FILE_BYTES} bytes")
    mime = upload.mimetype or "application/octet-stream"
    if not mime.startswith("audio/"):
        raise ApiError(400, 4, "only audio recordings are uploaded here")
    stored = state.files.put(cid, upload.filename or "recording.wav", mime, data, user_id)
    return {"file": state.files.url(request.host_url, stored)}


def voice_attachments(raw: Any) -> list[Json]:
    """The page's attachments, reduced to well-formed voice recordings (anything else is
    refused: the page sends nothing else)."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ATTACHMENTS:
        raise ApiError(400, 4, f"attachments: a list of at most {MAX_ATTACHMENTS}")
    return [_voice(item) for item in raw]


def _voice(item: Any) -> Json:
    if not isinstance(item, dict) or item.get("type") != "voiceRecording":
        raise ApiError(400, 4, "attachments: only voiceRecording is sent from the playground")
    url = item.get("asset_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiError(400, 4, "attachments: asset_url must be an http(s) URL")
    attachment = {key: item[key] for key in KEPT if key in item}
    attachment["duration"] = _number(item.get("duration"), 0.0, 3600.0)
    attachment["waveform_data"] = [_number(v, 0.0, 1.0) for v in
                                   _list(item.get("waveform_data"))[:WAVEFORM_MAX]]
    return attachment


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return low
    return round(min(max(float(value), low), high), 3)
