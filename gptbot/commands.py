"""What the webhook answers Stream for each command call. Local state only: 1 s budget."""

from __future__ import annotations

import logging
import time
from typing import Any

from gptbot import subcommands
from gptbot.answer import SUMMARIZE, AnswerJob
from gptbot.services import Services
from gptbot.webhook import CommandCall

log = logging.getLogger(__name__)


def respond(call: CommandCall, services: Services) -> dict[str, Any]:
    command = services.config.command
    if call.command != command:
        return _only_for_sender("error", f"/{call.command} is not a command this bot knows.")
    sub = subcommands.parse(call.args) if call.args else subcommands.Subcommand("help")
    if sub is None:
        _start_job(AnswerJob.from_call(call), call, services)
    elif sub.name == "summarize":  # needs the model: a background job like a question
        _start_job(AnswerJob.from_call(call, SUMMARIZE, sub.limit), call, services)
    else:
        return subcommands.handle(sub, call, services)
    # The question stays in the channel as the user typed it.
    return {"message": call.message}


def _start_job(job: AnswerJob, call: CommandCall, services: Services) -> None:
    if not services.store.claim_job(job.key, job.to_payload(), time.time()):
        log.info("duplicate delivery of %s (webhook %s); no new job", job.key, call.webhook_id)
        return
    try:
        services.jobs.enqueue(job.to_payload())
    except Exception:
        services.store.release_job(job.key)
        raise
    log.info("queued %s %s for %s in %s", job.kind, job.reply_id, call.user_id, call.cid)


def _only_for_sender(kind: str, text: str) -> dict[str, Any]:
    return {"message": {"type": kind, "text": text}}
