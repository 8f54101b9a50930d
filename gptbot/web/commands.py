"""What the webhook answers Stream for each command call. Local state only: 1 s budget."""

from __future__ import annotations

import logging
import time
from typing import Any

from gptbot.jobs.job import ANSWER, SUMMARIZE, AnswerJob
from gptbot.stream.reply import reply_id_for
from gptbot.web import subcommands
from gptbot.web.context import CommandContext
from gptbot.web.webhook import CommandCall

log = logging.getLogger(__name__)


def respond(call: CommandCall, ctx: CommandContext) -> dict[str, Any]:
    command = ctx.config.command
    if call.command != command:
        return _only_for_sender("error", f"/{call.command} is not a command this bot knows.")
    sub = subcommands.parse(call.args) if call.args else subcommands.Subcommand("help")
    if sub is None:
        _start_job(job_for(call), call, ctx)
    elif sub.name == "summarize":  # needs the model: a background job like a question
        _start_job(job_for(call, SUMMARIZE, sub.limit), call, ctx)
    else:
        return subcommands.handle(sub, call, ctx)
    # The question stays in the channel as the user typed it.
    return {"message": call.message}


def _start_job(job: AnswerJob, call: CommandCall, ctx: CommandContext) -> None:
    if not ctx.jobs.claim_job(job.key, job.to_payload(), time.time()):
        log.info("duplicate delivery of %s (webhook %s); no new job", job.key, call.webhook_id)
        return
    try:
        ctx.queue.enqueue(job.to_payload())
    except Exception:
        ctx.jobs.release_job(job.key)
        raise
    log.info("queued %s %s for %s in %s", job.kind, job.reply_id, call.user_id, call.cid)


def job_for(call: CommandCall, kind: str = ANSWER, limit: int = 0) -> AnswerJob:
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
    )


def _only_for_sender(kind: str, text: str) -> dict[str, Any]:
    return {"message": {"type": kind, "text": text}}
