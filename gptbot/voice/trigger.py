"""Which voice recording a `/gpt` command is about: one on the command message itself, else
on the message it quotes, else on its thread's parent. Pure: the caller fetches the messages.

Stream's web SDKs send `type: voiceRecording`; other clients upload a plain `file` or
`audio` attachment with an `audio/*` mime type, which counts too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Message = Mapping[str, Any]
SPOKEN_REPLY_WORD = "voice"  # `/gpt voice <question>` asks for a spoken answer too


@dataclass(frozen=True, slots=True)
class VoiceAttachment:
    message_id: str  # the message carrying it: the transcript is cached under this id
    asset_url: str
    mime_type: str
    duration: float | None  # seconds, as the sender's client claims (checked again after decoding)
    file_size: int | None
    title: str


def is_voice(attachment: Mapping[str, Any]) -> bool:
    if not isinstance(attachment.get("asset_url"), str) or not attachment["asset_url"]:
        return False
    mime = attachment.get("mime_type")
    return attachment.get("type") == "voiceRecording" or (
        isinstance(mime, str) and mime.lower().startswith("audio/"))


def voice_of(message: Message | None) -> VoiceAttachment | None:
    """The message's first voice attachment, or None."""
    if not message:
        return None
    attachments = message.get("attachments")
    for item in attachments if isinstance(attachments, list) else []:
        if isinstance(item, Mapping) and is_voice(item):
            return _attachment(str(message.get("id") or ""), item)
    return None


def find_voice(message: Message, quoted: Message | None = None,
               parent: Message | None = None) -> VoiceAttachment | None:
    """The command's own recording, else the quoted message's (as fetched, or as Stream
    embeds it under `quoted_message`), else the thread parent's."""
    embedded = message.get("quoted_message")
    quoted = quoted or (embedded if isinstance(embedded, Mapping) else None)
    return voice_of(message) or voice_of(quoted) or voice_of(parent)


def wants_spoken_reply(args: str) -> tuple[bool, str]:
    """(spoken answer asked for, the question without the word): `/gpt voice what is …`."""
    word, _, rest = args.strip().partition(" ")
    if word.lower() == SPOKEN_REPLY_WORD:
        return True, rest.strip()
    return False, args.strip()


def _attachment(message_id: str, item: Mapping[str, Any]) -> VoiceAttachment:
    return VoiceAttachment(
        message_id=message_id,
        asset_url=str(item["asset_url"]),
        mime_type=str(item.get("mime_type") or ""),
        duration=_number(item.get("duration")),
        file_size=_whole(item.get("file_size")),
        title=str(item.get("title") or ""),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
