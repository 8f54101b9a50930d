"""The job a command call queues: its key, its deterministic reply id, who asked, and when."""

from __future__ import annotations

import time

from gptbot.jobs.job import ANSWER, AnswerJob
from gptbot.stream.reply import reply_id_for
from gptbot.web.webhook import CommandCall


def job_for(
    call: CommandCall, kind: str = ANSWER, limit: int = 0, exempt: bool = False
) -> AnswerJob:
    return AnswerJob(
        call.dedupe_key,
        reply_id_for(call.message_id or call.webhook_id),
        call.channel_type,
        call.channel_id,
        call.parent_id,
        call.user_id,
        call.user_name,
        call.args,
        kind,
        limit,
        time.time(),
        exempt,
    )
