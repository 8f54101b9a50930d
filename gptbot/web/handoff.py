"""`/gpt human [note]` and `/gpt resume`, and the notice that keeps the bot quiet in between.

`human` is the one command answered with Stream calls inside the webhook (a members query,
perhaps an add-members, one message): a new job kind would need the worker's code. So its
summary is the plain one from the stored conversation, not the model's.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.conversation.handoff import (
    Ask,
    Handoffs,
    Place,
    call_operators,
    is_operator,
    plain_summary,
)
from gptbot.store import SettingsStore
from gptbot.stream.api import StreamApi
from gptbot.stream.reply import reply_id_for
from gptbot.web.context import CommandContext
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
        called = call_operators(_stream(ctx), ctx.config.bot_user_id, place,
                                _ask(sub, call, ctx), ctx.config.safety.operators)
    except (StreamAPIException, requests.RequestException) as exc:
        log.warning("handoff in %s failed: %s", place.key, exc)
        return "Sorry, I could not reach the operators. Please try again."
    if not called:
        return "No operator is in this channel to hand over to; please ask an admin."
    handoffs.mark(place, call.user_id, time.time())
    log.info("%s handed %s to %s", call.user_id, place.key, ", ".join(called))
    return f"I asked {', '.join(called.values())} to take over this {_place(call)}."


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


def _ask(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> Ask:
    memory = ctx.conversations.load_conversation(place_of(call).key)
    reply_id = reply_id_for(call.message_id or call.webhook_id)
    return Ask(reply_id, call.user_name or call.user_id, sub.text, plain_summary(memory))


def _settings(ctx: CommandContext) -> SettingsStore:
    assert ctx.settings is not None  # handle() checked
    return ctx.settings


def _stream(ctx: CommandContext) -> StreamApi:
    assert ctx.stream is not None  # handle() checked
    return ctx.stream


def _place(call: CommandCall) -> str:
    return "thread" if call.parent_id else "channel"
