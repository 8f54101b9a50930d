"""Handing a conversation to a person, from the worker: the `/gpt human` job, and the
`handoff_to_human` tool the model may call when it cannot help.

Both post the one message that calls the operators (conversation/handoff.py) with a
three-line summary written by the model — the `/gpt human` job asks it, the tool is handed it
as an argument — or, when there is none, the last three questions. Both mark the
conversation as handed off and count the handoff: an audit row (outcome "handoff") and a
ledger row (purpose "handoff": no tokens, $0) that `gptbot usage` counts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import requests
from stream_chat.base.exceptions import StreamAPIException

from gptbot.config import Config
from gptbot.conversation.handoff import (
    Ask,
    Handoffs,
    Place,
    call_operators,
    plain_summary,
    summary_lines,
    summary_request,
)
from gptbot.conversation.summarize import complete
from gptbot.costs.accountant import Accountant
from gptbot.jobs import audit_record as audited
from gptbot.jobs.audit_record import Auditor
from gptbot.jobs.job import HANDOFF, AnswerJob
from gptbot.jobs.lifecycle import Outcome
from gptbot.llm.providers import Provider
from gptbot.llm.tools import Tool, ToolContext
from gptbot.store import ConversationStore, SettingsStore
from gptbot.store.jobs import DONE
from gptbot.stream.api import StreamApi

log = logging.getLogger(__name__)
TOOL_NAME = "handoff_to_human"
TOOL_SUFFIX = "-handoff"  # the tool's message and audit row, beside the answer's own
TOOL_DESCRIPTION = (
    "Hand this conversation to a human operator. Call it only when the user asks for a "
    "person, or when you cannot help and a person could (account changes, refunds, "
    "complaints, anything you lack access to). The operators are mentioned in the channel "
    "with your summary; afterwards tell the user briefly that a person will continue here."
)
TOOL_PARAMETERS = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "Three short lines for the operator: "
                    "what the user needs, what you answered or tried, what is still open."},
        "reason": {"type": "string", "description": "Why a person is needed, in a few words."},
    },
    "required": ["summary"],
}
NOBODY = ("Error: no operator is available in this channel. Help the user as well as you "
          "can, or tell them to contact support directly.")


@dataclass(frozen=True)
class HandoffDesk:
    config: Config
    stream: StreamApi
    handoffs: Handoffs
    conversations: ConversationStore
    provider: Provider
    auditor: Auditor | None = None
    accountant: Accountant | None = None

    @classmethod
    def build(cls, config: Config, stream: StreamApi, settings: SettingsStore | None,
              conversations: ConversationStore, provider: Provider, auditor: Auditor | None,
              accountant: Accountant | None) -> HandoffDesk | None:
        """The desk, when operators are configured and handoffs can be marked."""
        if settings is None or not config.safety.operators:
            return None
        return cls(config, stream, Handoffs(settings), conversations, provider, auditor,
                   accountant)

    def run(self, job: AnswerJob) -> Outcome:
        """The `/gpt human` job. A Stream failure raises: the lifecycle re-runs the job, and
        the message's deterministic id makes the second post a no-op."""
        place = Place(job.cid, job.parent_id)
        ask = Ask(job.reply_id, job.user_name or job.user_id, job.question, self._summary(job))
        called = call_operators(self.stream, self.config.bot_user_id, place, ask,
                                self.config.safety.operators)
        if not called:  # they left the channel since the webhook looked
            log.warning("no operator left in %s to hand %s to", job.cid, place.key)
            self.handoffs.clear(place)
            return Outcome(DONE)
        self._count(job, ask)
        return Outcome(DONE)

    def tool(self) -> Tool:
        return Tool(TOOL_NAME, TOOL_DESCRIPTION, TOOL_PARAMETERS, self.hand_over, "context")

    def hand_over(self, summary: str, context: ToolContext, reason: str = "") -> str:
        """What the model reads back after calling the tool."""
        place = Place(f"{context.channel_type}:{context.channel_id}", context.parent_id or None)
        if self.handoffs.active(place):
            return "A person is already handling this conversation; tell the user so."
        job = _tool_job(context, reason)
        lines = summary_lines(summary) or \
            plain_summary(self.conversations.load_conversation(place.key))
        ask = Ask(job.reply_id, job.user_name, reason, lines, by_model=True)
        try:
            called = call_operators(self.stream, self.config.bot_user_id, place, ask,
                                    self.config.safety.operators)
        except (StreamAPIException, requests.RequestException) as exc:
            log.warning("handoff by the model in %s failed: %s", place.key, exc)
            return "Error: the operators could not be reached; try again later."
        if not called:
            return NOBODY
        self.handoffs.mark(place, context.user_id, time.time())
        self._count(job, ask)
        return (f"Handed over to {', '.join(called.values())}, who were mentioned in the "
                "channel. Tell the user briefly that a person will continue here.")

    def _summary(self, job: AnswerJob) -> list[str]:
        """The model's three lines; the plain last-three-questions text when it cannot."""
        conversation = self.conversations.load_conversation(job.conversation)
        request = summary_request(self.config.model, conversation, job.question)
        if request is None:
            return plain_summary(conversation)
        try:
            lines = summary_lines(complete(self.provider, replace(request, tag=job.tag(
                "handoff_summary"))))
        except Exception as exc:  # the operators are called either way
            log.warning("could not summarize %s for the operators: %s", job.conversation, exc)
            lines = []
        return lines or plain_summary(conversation)

    def _count(self, job: AnswerJob, ask: Ask) -> None:
        if self.accountant is not None:
            self.accountant.record_handoff(job.tag())
        if self.auditor is not None:
            self.auditor.record(job, audited.HANDOFF, "\n".join(ask.summary))
        log.info("%s handed %s to the operators", job.user_id, job.conversation)


def _tool_job(context: ToolContext, reason: str) -> AnswerJob:
    """The handoff the model made, as a job record of its own for the audit and ledger."""
    reply_id = context.reply_id + TOOL_SUFFIX
    return AnswerJob(reply_id, reply_id, context.channel_type, context.channel_id,
                     context.parent_id or None, context.user_id,
                     context.user_name or context.user_id, reason, HANDOFF)
