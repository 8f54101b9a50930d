"""An answer's steps as the attachments of its reply: each tool call and round of reasoning
one Stream AI attachment (ai_attachments.py), in the order they began, updated in place."""

from __future__ import annotations

from typing import Any

from gptbot.core.steps import ReasoningStep, Step, ToolStep
from gptbot.stream import ai_attachments as ai


class ReplySteps:
    def __init__(self) -> None:
        self.attachments: list[dict[str, Any]] = []
        self._started: dict[str, dict[str, Any]] = {}  # tool call id → its running step
        self.changed = False  # since the writer last sent them (it clears this)

    def show(self, step: Step) -> None:
        shown = self._tool(step) if isinstance(step, ToolStep) else self._reasoning(step)
        self.attachments = ai.merge_step(self.attachments, shown)
        self.changed = True

    def settle(self) -> None:
        """For the final write: a call still running (Stop, an error) becomes cancelled."""
        self.attachments = ai.settle(self.attachments)

    def fields(self) -> dict[str, Any]:
        """What a message write adds: nothing for an answer without steps."""
        return {"attachments": self.attachments} if self.attachments else {}

    def _tool(self, step: ToolStep) -> dict[str, Any]:
        if step.result is None or step.call_id not in self._started:
            started = ai.tool_call_started(step.call_id, step.name, title=tool_title(step.name))
            self._started[step.call_id] = started
        if step.result is None:
            return self._started[step.call_id]
        seconds = None if step.seconds is None else step.seconds * 1000
        return ai.tool_call_finished(self._started[step.call_id], step.result,
                                     duration_ms=seconds)

    def _reasoning(self, step: ReasoningStep) -> dict[str, Any]:
        seconds = None if step.seconds is None else step.seconds * 1000
        return ai.reasoning(step.step_id, step.text, done=step.done, duration_ms=seconds)


def tool_title(name: str) -> str:
    """`get_weather` → "Using get weather": the tool's name in words, for the step's title."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return f"Using {words}" if words else ""
