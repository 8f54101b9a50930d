"""`/gpt help|reset|stop|system|persona|summarize|usage|forget-me|human|resume`: the first
word of the arguments (`human` and `resume` are answered in web/handoff.py).

Anything that does not match a subcommand's exact shape is a question, so
`/gpt help me write a poem` and `/gpt summarize this thread for me` are still answered.
The handlers here run inside the webhook (1 s budget) and use local state only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gptbot.config import Config
from gptbot.conversation.channel_history import MAX_LIMIT
from gptbot.conversation.memory import conversation_key
from gptbot.conversation.prompts import PERSONAS, find_persona
from gptbot.core.errors import BadRequest
from gptbot.core.types import CallTag
from gptbot.costs.satisfaction import Tally
from gptbot.costs.usage_message import usage_message
from gptbot.web.context import CommandContext
from gptbot.web.webhook import CommandCall

SUMMARIZE_DEFAULT = 50
SUMMARIZE_MAX = MAX_LIMIT
CLEAR_WORDS = ("default", "reset", "clear")
USAGE_SCOPES = {"": "user", "me": "user", "channel": "channel", "all": "app"}

HELP = """**/{cmd}** asks the AI assistant. It remembers this {place}'s earlier questions.
`/{cmd} <question>`, for example `/{cmd} How do I change my billing address?`
`/{cmd} summarize [N]`: summarize the last N messages here (default {n})
`/{cmd} stop`: stop the answer being written here
`/{cmd} reset`: forget this {place}'s conversation
`/{cmd} usage`: what you have used today and this month; admins: `usage channel`, `usage all`
`/{cmd} forget-me`: delete your remembered questions and audit records everywhere
`/{cmd} human [note]`: hand this {place} to a person; the operators are called in
`/{cmd} resume`: (operators) hand this {place} back to me
`/{cmd} persona [name]`: list the personas, or (admins) switch to one: {personas}
`/{cmd} system <text>`: (admins) set this channel's system prompt; `/{cmd} system reset` undoes it
The answer appears here as a message from {bot}, growing while it is written.
Now: {prompt}; {memory}."""


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    text: str = ""
    limit: int = 0


def parse(args: str) -> Subcommand | None:
    """The subcommand the arguments spell, or None for a question.

    BadRequest for `summarize` with a count in other digits (`²`, `٣`: `isdigit()` is true,
    `int()` refuses some) or of more than 9 digits (5,000 are past `int()`'s limit)."""
    word, _, rest = args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in ("help", "reset", "stop", "forget-me", "resume") and not rest:
        return Subcommand(word)
    if word == "human":
        return Subcommand("human", rest)
    if word in ("summarize", "summarise") and (not rest or rest.isdigit()):
        if not (rest.isascii() and len(rest) <= 9):
            raise BadRequest(f"`{word} N` takes a count of messages written with up to 9 digits "
                             f"0-9 (at most {SUMMARIZE_MAX} are read), not {rest[:20]!a}")
        limit = int(rest) if rest else SUMMARIZE_DEFAULT
        return Subcommand("summarize", limit=min(max(limit, 1), SUMMARIZE_MAX))
    if word == "system":
        return Subcommand("system", rest)
    if word == "persona" and len(rest.split()) <= 1:
        return Subcommand("persona", rest)
    if word == "usage" and rest.lower() in USAGE_SCOPES:
        return Subcommand("usage", USAGE_SCOPES[rest.lower()])
    return None


def is_admin(call: CommandCall, config: Config) -> bool:
    return call.user_role == "admin" or call.user_id in config.admins


def handle(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> dict[str, Any]:
    """The ephemeral answer to a handler-side subcommand (all but summarize)."""
    handlers = {
        "help": help_text,
        "reset": reset,
        "stop": stop,
        "system": system,
        "persona": persona,
        "usage": usage,
        "forget-me": forget_me,
    }
    return ephemeral(handlers[sub.name](sub, call, ctx))


def ephemeral(text: str) -> dict[str, Any]:
    return {"message": {"type": "ephemeral", "text": text}}


def help_text(_sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    config = ctx.config
    memory = ctx.conversations.load_conversation(conversation_key(call.cid, call.parent_id))
    count = len(memory.turns)
    remembered = f"{count} earlier question{'' if count == 1 else 's'} remembered"
    if memory.summary:
        remembered += ", plus a summary of older ones"
    return HELP.format(
        cmd=config.command,
        place=_place(call),
        n=SUMMARIZE_DEFAULT,
        personas=", ".join(p.name for p in PERSONAS),
        bot=config.bot_name,
        prompt=ctx.prompts.describe(call.cid),
        memory=remembered,
    )


def reset(_sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    ctx.conversations.forget_conversation(conversation_key(call.cid, call.parent_id))
    return (
        f"Done: I forgot this {_place(call)}'s conversation. "
        "The channel's persona or system prompt stays as it was."
    )


def stop(_sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    ctx.jobs.request_stop(conversation_key(call.cid, call.parent_id), time.time())
    return f"Stopping the answer being written in this {_place(call)}, if there is one."


def system(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    if not is_admin(call, ctx.config):
        return _refusal("system", ctx.config.command)
    prompts = ctx.prompts
    if not sub.text:
        return f"This channel uses {prompts.describe(call.cid)}:\n\n{prompts.for_channel(call.cid)}"
    if sub.text.lower() in CLEAR_WORDS:
        prompts.clear(call.cid)
        return "This channel uses the default system prompt again."
    prompts.set_custom(call.cid, sub.text)
    return "This channel's system prompt is set; it applies from the next question."


def persona(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    listing = "\n".join(f"`{p.name}`: {p.title}" for p in PERSONAS)
    if not sub.text:
        return f"Personas:\n{listing}\nThis channel uses {ctx.prompts.describe(call.cid)}."
    if not is_admin(call, ctx.config):
        return _refusal("persona", ctx.config.command)
    if sub.text.lower() in CLEAR_WORDS:
        ctx.prompts.clear(call.cid)
        return "This channel uses the default system prompt again."
    chosen = find_persona(sub.text)
    if chosen is None:
        return f"There is no persona {sub.text!r}. Personas:\n{listing}"
    ctx.prompts.set_persona(call.cid, chosen)
    return f"This channel now talks to the {chosen.title} persona."


def usage(sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    if sub.text != "user" and not is_admin(call, ctx.config):
        return f"Only admins can see the usage of a whole channel or of the assistant; " \
               f"`/{ctx.config.command} usage` shows yours."
    tag = CallTag("", call.user_id, call.cid)
    text = usage_message(ctx.quotas, tag, sub.text, ctx.unpriced_model)
    if sub.text == "app" and ctx.feedback is not None:  # `/gpt usage all`
        now = ctx.quotas.clock()
        votes = ctx.feedback.votes(ctx.quotas.periods.month_start(now), now + 1.0)
        text += f"\nFeedback this month: {Tally.of(votes).describe()}."
    return text


def forget_me(_sub: Subcommand, call: CommandCall, ctx: CommandContext) -> str:
    """Every conversation's turns and every audit record of the caller deleted; their usage
    rows kept for the totals, under FORGOTTEN instead of their id."""
    if ctx.audit is None or ctx.ledger is None:
        return "Sorry, forgetting is not set up here yet. Please ask an operator."
    turns = ctx.conversations.forget_user(call.user_id)
    records = ctx.audit.forget_user(call.user_id)
    if ctx.feedback is not None:
        ctx.feedback.forget_voter(call.user_id)
    ctx.ledger.anonymise_user(call.user_id)
    return (f"Done: I deleted {_count(turns, 'remembered question')} (and any summary made "
            f"from them) and {_count(records, 'audit record')}; your usage is kept without "
            "your name.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _refusal(word: str, command: str) -> str:
    return (
        f"Only admins can change this channel's prompt. (To ask a question that starts "
        f"with “{word}”, rephrase it: `/{command} {word} …` is reserved.)"
    )


def _place(call: CommandCall) -> str:
    return "thread" if call.parent_id else "channel"
