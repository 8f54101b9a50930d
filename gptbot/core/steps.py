"""The steps an answer takes besides its text (a tool call, a round of reasoning), as the
generation reports them to its sink. The reply writer shows them as Stream's AI attachments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ToolStep:
    """A tool call: running while `result` is None, finished once it has one."""

    call_id: str
    name: str
    result: str | None = None
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ReasoningStep:
    """The model's reasoning in one model turn, `text` so far; `done` once its answer began."""

    step_id: str
    text: str
    done: bool = False
    seconds: float | None = None


Step = ToolStep | ReasoningStep
