"""👍 / 👎 on the bot's replies: Stream's `reaction.new` and `reaction.deleted` webhook events.

A reaction counts when it is on one of the bot's replies (its id starts with the reply prefix
and the message is the bot's) and its type is listed in GPTBOT_FEEDBACK_UP or _DOWN. The vote
is kept against the reply, with the model and cost its audit record names and the channel's
persona at the time; `gptbot usage` and `/gpt usage all` report the share of 👍.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from gptbot.config import Config
from gptbot.conversation.prompts import Prompts
from gptbot.store import AuditRecord, AuditStore, FeedbackStore, Vote
from gptbot.stream.reply import REPLY_PREFIX

log = logging.getLogger(__name__)
NEW, DELETED = "reaction.new", "reaction.deleted"
EVENTS = (NEW, DELETED)
_PART = re.compile(r"^(.+)-\d+$")  # a follow-up part's id: the reply id and its number


@dataclass(frozen=True)
class Feedback:
    config: Config
    votes: FeedbackStore
    prompts: Prompts
    audit: AuditStore | None = None

    def handle(self, event: dict[str, Any]) -> str:
        """"voted", "withdrawn", or "ignored" (not the bot's reply, not a feedback type)."""
        reaction, message = _dict(event, "reaction"), _dict(event, "message")
        message_id = _text(reaction, "message_id") or _text(message, "id")
        vote = self.config.feedback.vote_of(_text(reaction, "type"))
        voter = _text(reaction, "user_id") or _text(_dict(event, "user"), "id")
        if not (vote and voter and self._is_ours(message_id, message)):
            return "ignored"
        reply_id, record = self._reply_of(message_id)
        if event["type"] == DELETED:
            return "withdrawn" if self.votes.withdraw_vote(reply_id, voter, vote) else "ignored"
        self.votes.record_vote(self._vote(reply_id, record, voter, _cid(event, message), vote))
        log.info("%s on %s", "👍" if vote > 0 else "👎", reply_id)
        return "voted"

    def _is_ours(self, message_id: str, message: dict[str, Any]) -> bool:
        author = _text(_dict(message, "user"), "id")
        return message_id.startswith(REPLY_PREFIX) and author in ("", self.config.bot_user_id)

    def _reply_of(self, message_id: str) -> tuple[str, AuditRecord | None]:
        """The reply a part belongs to (its own id when the audit log knows it), with the
        reply's audit record: looked up once, here."""
        if self.audit is None:
            return message_id, None
        record = self.audit.audit_record(message_id)
        part = _PART.match(message_id)
        if record is not None or part is None:
            return message_id, record
        whole = self.audit.audit_record(part.group(1))
        return (part.group(1), whole) if whole is not None else (message_id, None)

    def _vote(self, reply_id: str, record: AuditRecord | None, voter: str, cid: str,
              vote: int) -> Vote:
        model = record.model if record else ""
        cost = record.cost_usd if record else None
        return Vote(time.time(), reply_id, voter, cid, vote, model,
                    self.prompts.persona_name(cid) if cid else "", cost)


def _cid(event: dict[str, Any], message: dict[str, Any]) -> str:
    cid = _text(event, "cid") or _text(message, "cid")
    if not cid and _text(event, "channel_type") and _text(event, "channel_id"):
        cid = f"{event['channel_type']}:{event['channel_id']}"
    return cid


def _dict(event: dict[str, Any], key: str) -> dict[str, Any]:
    value = event.get(key)
    return value if isinstance(value, dict) else {}


def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""
