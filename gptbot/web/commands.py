"""What the webhook answers Stream for each command call. Local state only: 1 s budget."""

from __future__ import annotations

import logging
import time
from typing import Any

from gptbot.jobs.job import SUMMARIZE, AnswerJob
from gptbot.telemetry import with_traceparent
from gptbot.voice.errors import VoiceNotSetUp
from gptbot.voice.trigger import find_voice, wants_spoken_reply
from gptbot.web import handoff, subcommands
from gptbot.web.context import CommandContext
from gptbot.web.queued import job_for
from gptbot.web.webhook import CommandCall

log = logging.getLogger(__name__)


def respond(call: CommandCall, ctx: CommandContext) -> tuple[dict[str, Any], str]:
    """The answer for Stream, and the webhook's outcome for the metrics: acked, duplicate,
    refused_limit or bad_request (a command this bot does not know)."""
    command = ctx.config.command
    if call.command != command:
        return _only_for_sender(
            "error", f"/{call.command} is not a command this bot knows."), "bad_request"
    asks = bool(wants_spoken_reply(call.args)[1]) or may_have_voice(call)
    sub = subcommands.parse(call.args) if asks else subcommands.Subcommand("help")
    if sub is not None and sub.name in handoff.NAMES:
        return handoff.handle(sub, call, ctx), "acked"
    if sub is not None and sub.name != "summarize":
        return subcommands.handle(sub, call, ctx), "acked"
    if quiet := handoff.quiet_notice(call, ctx):  # a person handles it: no job, no model
        return quiet, "acked"
    if sub is None and _voice_is_off(call, ctx):
        return _only_for_sender("ephemeral", VoiceNotSetUp.user_message), "acked"
    exempt = ctx.config.limits.exempt_admins and subcommands.is_admin(call, ctx.config)
    job = job_for(call, exempt=exempt) if sub is None \
        else job_for(call, SUMMARIZE, sub.limit, exempt)  # summarize needs the model too
    refused, outcome = _start_job(job, call, ctx)
    # The question stays in the channel as the user typed it.
    return refused or {"message": call.message}, outcome


def may_have_voice(call: CommandCall) -> bool:
    """A recording on the command or the message it embeds as quoted, or a quote the job
    has to fetch to know: `/gpt` alone on a voice message is a question."""
    if find_voice(call.message) is not None:
        return True
    return bool(call.quoted_message_id) and not call.message.get("quoted_message")


def _voice_is_off(call: CommandCall, ctx: CommandContext) -> bool:
    """Only a recording, no typed question, and nothing here to hear it with."""
    typed = wants_spoken_reply(call.args)[1]
    return ctx.config.voice.stt == "off" and not typed and find_voice(call.message) is not None


def _start_job(
    job: AnswerJob, call: CommandCall, ctx: CommandContext
) -> tuple[dict | None, str]:
    """Queue the job; the ephemeral refusal instead when a quota or budget says no."""
    payload = with_traceparent(job.to_payload())  # the job's spans join the webhook's trace
    if not ctx.jobs.claim_job(job.key, payload, time.time()):
        log.info("duplicate delivery of %s (webhook %s); no new job", job.key, call.webhook_id)
        return None, "duplicate"
    try:
        refusal = ctx.quotas.admit(call.user_id, call.cid, job.exempt)
    except Exception:  # the store is down: Stream's retry must find no claim
        ctx.jobs.release_job(job.key)
        raise
    if refusal:
        ctx.jobs.release_job(job.key)
        log.info("refused %s for %s in %s: %s", job.key, call.user_id, call.cid, refusal)
        return _only_for_sender("ephemeral", refusal), "refused_limit"
    try:
        if ctx.order is not None:
            ctx.order.join(job)  # answered after the questions asked before it here
        ctx.queue.enqueue(payload)
    except Exception:  # nothing was asked of the model: give the question back
        ctx.jobs.release_job(job.key)
        ctx.quotas.give_back(call.user_id, call.cid)
        if ctx.order is not None:
            ctx.order.leave(job)
        raise
    log.info("queued %s %s for %s in %s", job.kind, job.reply_id, call.user_id, call.cid)
    return None, "acked"


def _only_for_sender(kind: str, text: str) -> dict[str, Any]:
    return {"message": {"type": kind, "text": text}}
