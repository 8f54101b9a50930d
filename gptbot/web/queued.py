"""The job a command call queues: its key, its deterministic reply id, who asked, and when."""

from __future__ import annotations

import time
from typing import Any

from gptbot.jobs.job import ANSWER, AnswerJob
from gptbot.stream.reply import reply_id_for
from gptbot.voice.trigger import is_voice, wants_spoken_reply
from gptbot.web.webhook import CommandCall


def job_for(
    call: CommandCall, kind: str = ANSWER, limit: int = 0, exempt: bool = False
) -> AnswerJob:
    spoken, question = wants_spoken_reply(call.args) if kind == ANSWER else (False, call.args)
    quoted = call.message.get("quoted_message")
    return AnswerJob(
        call.dedupe_key,
        reply_id_for(call.message_id or call.webhook_id),
        call.channel_type,
        call.channel_id,
        call.parent_id,
        call.user_id,
        call.user_name,
        question,
        kind,
        limit,
        time.time(),
        exempt,
        spoken,
        call.message_id,
        voice_attachments(call.message),
        call.quoted_message_id,
        _voice_part(quoted) if isinstance(quoted, dict) else None,
    )


def voice_attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Only the message's recordings go into the job: the payload stays small."""
    attachments = message.get("attachments")
    items = attachments if isinstance(attachments, list) else []
    return [dict(item) for item in items if isinstance(item, dict) and is_voice(item)]


def _voice_part(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(message.get("id") or ""), "attachments": voice_attachments(message)}
