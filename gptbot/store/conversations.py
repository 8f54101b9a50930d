"""The conversation contract: the turns and running summary of each channel or thread."""

from __future__ import annotations

from typing import Protocol

from gptbot.core.types import Conversation, Turn


class ConversationStore(Protocol):
    def add_turn(self, conversation: str, turn: Turn) -> None:
        """Append a turn; a turn with the same id replaces the earlier one."""

    def load_conversation(self, conversation: str) -> Conversation:
        """The summary and the turns (oldest first); empty for an unknown conversation."""

    def fold_conversation(self, conversation: str, turn_ids: list[str], summary: str) -> None:
        """In one step: drop these turns and set the summary that now stands for them."""

    def forget_conversation(self, conversation: str) -> None:
        """Delete the turns and the summary."""

    def prune_turns(self, before: float) -> int:
        """Delete turns asked before `before`, in every conversation; a conversation left
        with no turns by this loses its summary too. Returns how many turns."""

    def forget_user(self, user_id: str) -> int:
        """Delete this user's turns, and every summary folded from any of their turns, in
        every conversation; returns how many turns."""
