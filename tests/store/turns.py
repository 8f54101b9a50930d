"""A conversation turn for the store tests."""

from __future__ import annotations

from gptbot.core.types import Turn


def turn(n: int, at: float | None = None) -> Turn:
    return Turn(f"gpt-{n}", float(n) if at is None else at, "alice", "Alice", f"q{n}", f"a{n}")
