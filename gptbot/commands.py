"""What the webhook answers Stream for each command call. Local state only: 1 s budget."""

from __future__ import annotations

import logging
import time
from typing import Any

from gptbot.answer import AnswerJob
from gptbot.services import Services
from gptbot.webhook import CommandCall

log = logging.getLogger(__name__)

HELP = (
    "**/gpt** asks the AI assistant.\n"
    "Usage: `/gpt <question>`, for example `/gpt How do I change my billing address?`\n"
    "The answer appears here as a message from {bot}, growing while it is written."
)


def respond(call: CommandCall, services: Services) -> dict[str, Any]:
    command = services.config.command
    if call.command != command:
        return _only_for_sender("error", f"/{call.command} is not a command this bot knows.")
    if not call.args:
        return _only_for_sender("ephemeral", HELP.format(bot=services.config.bot_name))
    _start_answer(call, services)
    # The question stays in the channel as the user typed it.
    return {"message": call.message}


def _start_answer(call: CommandCall, services: Services) -> None:
    job = AnswerJob.from_call(call)
    if not services.store.claim_job(job.key, job.to_payload(), time.time()):
        log.info("duplicate delivery of %s (webhook %s); no new job", job.key, call.webhook_id)
        return
    try:
        services.jobs.enqueue(job.to_payload())
    except Exception:
        services.store.release_job(job.key)
        raise
    log.info("queued answer %s for %s in %s", job.reply_id, call.user_id, call.cid)


def _only_for_sender(kind: str, text: str) -> dict[str, Any]:
    return {"message": {"type": kind, "text": text}}
