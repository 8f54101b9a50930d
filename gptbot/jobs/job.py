"""The queued unit of work: one `/gpt` question (or summary request) as a plain payload."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from gptbot.conversation.memory import conversation_key
from gptbot.core.types import CallTag
from gptbot.llm.tools import ToolContext

ANSWER, SUMMARIZE, HANDOFF = "answer", "summarize", "handoff"  # job kinds


@dataclass(frozen=True, slots=True)
class AnswerJob:
    key: str
    reply_id: str
    channel_type: str
    channel_id: str
    parent_id: str | None
    user_id: str
    user_name: str
    question: str
    kind: str = ANSWER
    limit: int = 0  # SUMMARIZE: how many recent messages
    asked_at: float = 0.0  # stop requests from this moment on apply to this job
    exempt: bool = False  # an admin: per-user and per-channel limits do not apply
    spoken: bool = False  # `/gpt voice …`: a spoken answer too (jobs/voice_steps.py)
    # Where a voice recording may be: the command message's id and attachments, the message
    # it quotes (and its copy embedded by Stream), the thread parent (`parent_id`).
    message_id: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list, hash=False)
    quoted_message_id: str | None = None
    quoted_message: dict[str, Any] | None = field(default=None, hash=False)

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AnswerJob:
        # Unknown keys are dropped: a newer web process may queue work for an older worker.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})

    def command_message(self) -> dict[str, Any]:
        """The command message as far as hearing it needs (gptbot.voice.trigger)."""
        message: dict[str, Any] = {"id": self.message_id, "attachments": self.attachments}
        if self.quoted_message is not None:
            message["quoted_message"] = self.quoted_message
        return message

    @property
    def cid(self) -> str:
        return f"{self.channel_type}:{self.channel_id}"

    @property
    def conversation(self) -> str:
        return conversation_key(self.cid, self.parent_id)

    @property
    def stop_scopes(self) -> list[str]:
        """A stop for this thread, or for the whole channel, stops this job."""
        return list(dict.fromkeys([self.conversation, self.cid]))

    @property
    def remembered_question(self) -> str:
        if self.kind == SUMMARIZE:
            return f"Summarize the last {self.limit} messages here."
        return self.question

    def tag(self, purpose: str = "answer") -> CallTag:
        """Whom this job's model calls are billed to."""
        return CallTag(self.reply_id, self.user_id, self.cid, purpose, self.exempt)

    def tool_context(self) -> ToolContext:
        return ToolContext(self.channel_type, self.channel_id, self.user_id, self.user_name,
                           self.parent_id or "", self.reply_id)
