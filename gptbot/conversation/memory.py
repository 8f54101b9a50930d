"""Conversation memory: what the model sees of earlier `/gpt` turns, within a token budget.

A conversation is a channel, or a thread when the command is typed in one. The prompt is
the system prompt (with the running summary and, optionally, recent channel messages),
then as many of the newest turns as fit, then the question. When turns no longer fit,
the older ones are folded into the summary by the model, down to about half the room,
so the next questions need no new summary (a fold costs one extra model call).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gptbot.core.errors import GptBotError
from gptbot.core.types import ChatMessage, Conversation, Turn
from gptbot.llm.tokens import estimate_tokens, message_tokens, messages_tokens
from gptbot.safety import Placeholders, Redactor
from gptbot.store import ConversationStore

log = logging.getLogger(__name__)

SUMMARIZED_NOTE = "Earlier messages of this conversation were summarized to fit my memory."
TRIMMED_NOTE = "Some earlier messages of this conversation no longer fit my memory."
SUMMARY_MAX_TOKENS = 800
SUMMARY_MIN_TOKENS = 64

# (earlier summary, turns to fold in, token limit) → the new summary; raises GptBotError.
Summarizer = Callable[[str, list[Turn], int], str]


def conversation_key(cid: str, parent_id: str | None) -> str:
    """Channel ids cannot contain '/', so this never collides with another channel."""
    return f"{cid}/{parent_id}" if parent_id else cid


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: tuple[ChatMessage, ...]
    note: str = ""  # tells the reader when memory was summarized or cut
    fresh: bool = False  # nothing remembered yet: the first turn of the conversation


class Memory:
    def __init__(
        self,
        store: ConversationStore,
        budget: int,
        summarize: Summarizer,
        redactor: Redactor | None = None,
    ) -> None:
        self.store = store
        self.budget = budget
        self.summarize = summarize
        self.redactor = redactor  # GPTBOT_REDACT: turns are stored without the personal data

    def prepare(
        self,
        key: str,
        system: str,
        question: str,
        context: Sequence[str] = (),
        summarize: Summarizer | None = None,
    ) -> Prompt:
        """The messages for this question; `summarize` folds old turns (default: the one
        given at construction), e.g. billed to the asker."""
        conversation = self.store.load_conversation(key)
        messages, left_out = self._compose(system, conversation, question, context)
        if not left_out:
            fresh = not conversation.turns and not conversation.summary
            return Prompt(messages, fresh=fresh)
        try:
            conversation = self._fold(key, conversation, system, question, context, summarize)
        except GptBotError as exc:  # answer anyway, with what fits
            log.warning("could not summarize %s: %s", key, exc)
            return Prompt(messages, TRIMMED_NOTE)
        messages, _ = self._compose(system, conversation, question, context)
        return Prompt(messages, SUMMARIZED_NOTE)

    def remember(self, key: str, turn: Turn) -> None:
        if turn.answer.strip():  # a reply with no text teaches the model nothing
            self.store.add_turn(key, self._redacted(key, turn))

    def _redacted(self, key: str, turn: Turn) -> Turn:
        """Question and answer numbered together, the way the request was: the numbers the
        remembered conversation uses are taken, new values follow in order. So the answer's
        `[EMAIL_2]` is the question's e-mail in the stored turn too (unless channel context
        held personal data, which moves the request's numbers on)."""
        if self.redactor is None or not self.redactor.enabled:
            return turn
        names = Placeholders()
        earlier = self.store.load_conversation(key)
        for text in (earlier.summary, *(t.question + t.answer for t in earlier.turns
                                        if t.id != turn.id)):  # a re-run replaces its turn
            names.reserve(text)
        question = self.redactor.redact(turn.question, names)
        return replace(turn, question=question, answer=self.redactor.redact(turn.answer, names))

    def _compose(
        self, system: str, conversation: Conversation, question: str, context: Sequence[str]
    ) -> tuple[tuple[ChatMessage, ...], list[Turn]]:
        """The messages to send, and the older turns that did not fit."""
        head = ChatMessage("system", system_text(system, conversation.summary, context))
        tail = ChatMessage("user", question)
        kept = newest_turns(conversation.turns, self.budget - messages_tokens([head, tail]))
        left_out = conversation.turns[: len(conversation.turns) - len(kept)]
        return (head, *turn_messages(kept), tail), left_out

    def _fold(
        self,
        key: str,
        conversation: Conversation,
        system: str,
        question: str,
        context: Sequence[str],
        summarize: Summarizer | None = None,
    ) -> Conversation:
        base = [
            ChatMessage("system", system_text(system, "", context)),
            ChatMessage("user", question),
        ]
        room = self.budget - messages_tokens(base)
        limit = max(SUMMARY_MIN_TOKENS, min(SUMMARY_MAX_TOKENS, room // 4))
        keep = newest_turns(conversation.turns, (room - limit) // 2)
        old = conversation.turns[: len(conversation.turns) - len(keep)]
        summary = (summarize or self.summarize)(conversation.summary, old, limit)
        if not summary:
            raise GptBotError("the model returned an empty summary")
        self.store.fold_conversation(key, [t.id for t in old], summary)
        log.info(
            "folded %d turns of %s into a %d-token summary", len(old), key, estimate_tokens(summary)
        )
        return Conversation(summary, keep)


def system_text(system: str, summary: str, context: Sequence[str]) -> str:
    parts = [system]
    if summary:
        parts.append(f"Summary of the earlier conversation:\n{summary}")
    if context:
        parts.append("Recent messages in this channel, oldest first:\n" + "\n".join(context))
    return "\n\n".join(parts)


def turn_messages(turns: Sequence[Turn]) -> list[ChatMessage]:
    return [
        m
        for t in turns
        for m in (ChatMessage("user", t.question), ChatMessage("assistant", t.answer))
    ]


def newest_turns(turns: list[Turn], room: int) -> list[Turn]:
    """The longest run of newest turns whose messages fit in `room` tokens."""
    used, count = 0, 0
    for turn in reversed(turns):
        used += sum(message_tokens(m) for m in turn_messages([turn]))
        if used > room:
            break
        count += 1
    return turns[len(turns) - count :]
