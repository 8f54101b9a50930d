"""The turn-order contract: the questions of one conversation in the order they were asked,
so its answers are written one after the other (jobs/in_order.py)."""

from __future__ import annotations

from typing import Protocol


class TurnOrderStore(Protocol):
    def join_turn(self, conversation: str, key: str, asked_at: float) -> None:
        """Queue the job `key` in its conversation; joining again changes nothing."""

    def turns_ahead(self, conversation: str, key: str) -> list[str]:
        """The jobs queued before `key` in its conversation (asked earlier; the same moment:
        the smaller key), oldest first; [] when `key` is not queued."""

    def leave_turn(self, conversation: str, key: str) -> None:
        """Take the job out of its conversation's order (done, failed, or never queued)."""

    def prune_turn_order(self, before: float) -> int:
        """Drop entries asked before `before` (jobs long gone); returns how many."""
