"""`/gpt human [note]` and `/gpt resume`, and the notice that keeps the bot quiet in between.

`human` looks up inside the webhook who would be called (one members query), marks the
conversation and queues a handoff job: the worker has the model write the operators' summary,
adds the operators who are not members and posts the message (jobs/handoff.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.conversation.handoff import Handoffs, Place, is_operator, operators_among
from gptbot.jobs.job import HANDOFF
from gptbot.store import SettingsStore
from gptbot.stream.api import StreamApi
from gptbot.telemetry import with_traceparent
from gptbot.web.context import CommandContext
from gptbot.web.queued import job_for
from gptbot.web.subcommands import Subcommand, ephemeral, is_admin
from gptbot.web.webhook import CommandCall

log = logging.getLogger(__name__)
NAMES = ("human", "resume")


def place_of(call: CommandCall) -> Place:
    return Place(call.cid, call.parent_id)


def quiet_notice(call: CommandCall, ctx: CommandContext) -> dict[str, Any] | None:
    """The ephemeral notice instead of a job while a person handles this conversation."""
    if ctx.settings is None or not Handoffs(ctx.settings).active(place_of(call)):
        return None
    return ephemeral(f"A person is handling this conversation now; `/{ctx.config.command} "
                     "resume` (operators) hands it back to me.")


def handle(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> dict[str, Any]:
    if ctx.settings is None or ctx.stream is None:
        return ephemeral("Sorry, handing over to a person is not set up here yet.")
    if not ctx.config.safety.operators:
        return ephemeral("No operators are configured (GPTBOT_OPERATORS); please ask an admin.")
    answer = human if sub.name == "human" else resume
    return ephemeral(answer(sub, call, ctx))


def human(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    handoffs, place = Handoffs(_settings(ctx)), place_of(call)
    if handoffs.active(place):
        return f"A person is already handling this {_place(call)}."
    try:
        members = _stream(ctx).channel_members(place.channel)
    except (StreamAPIException, requests.RequestException) as exc:
        log.warning("handoff in %s failed: %s", place.key, exc)
        return "Sorry, I could not reach the operators. Please try again."
    called = operators_among(members, ctx.config.safety.operators)
    if not called:
        return "No operator is in this channel to hand over to; please ask an admin."
    _queue(sub, call, ctx)
    handoffs.mark(place, call.user_id, time.time())
    log.info("%s hands %s to %s", call.user_id, place.key, ", ".join(called))
    return f"I asked {', '.join(called.values())} to take over this {_place(call)}."


def _queue(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> None:
    """The handoff job; a second delivery of the same command queues nothing."""
    job = replace(job_for(call, HANDOFF), question=sub.text)
    payload = with_traceparent(job.to_payload())
    if not ctx.jobs.claim_job(job.key, payload, time.time()):
        return
    try:
        ctx.queue.enqueue(payload)
    except Exception:  # Stream's retry must find no claim
        ctx.jobs.release_job(job.key)
        raise


def resume(_sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    handoffs, place = Handoffs(_settings(ctx)), place_of(call)
    if not _may_resume(call, ctx, place):
        return "Only operators and admins can hand this conversation back to me."
    if not handoffs.active(place):
        return f"This {_place(call)} was not handed over; I am answering here."
    handoffs.clear(place)
    log.info("%s resumed %s", call.user_id, place.key)
    return f"I am answering here again: `/{ctx.config.command} <question>`."


def _may_resume(call: CommandCall, ctx: CommandContext, place: Place) -> bool:
    if is_admin(call, ctx.config):
        return True
    user = (call.user_id, call.user_role)
    try:
        return is_operator(_stream(ctx), place, user, ctx.config.safety.operators)
    except (StreamAPIException, requests.RequestException) as exc:  # no members: no roles
        log.warning("could not read the members of %s: %s", place.cid, exc)
        return False


def _settings(ctx: CommandContext) -> SettingsStore:
    assert ctx.settings is not None  # handle() checked
    return ctx.settings


def _stream(ctx: CommandContext) -> StreamApi:
    assert ctx.stream is not None  # handle() checked
    return ctx.stream


def _place(call: CommandCall) -> str:
    return "thread" if call.parent_id else "channel"
