"""One answer: stream a provider's events into a text sink and say how it ended.

With a toolbox, one answer may take several model turns: when a turn ends with tool
calls, the tools run (the sink shows AI_STATE_EXTERNAL_SOURCES meanwhile), their results
are appended to the conversation and the model is asked again — at most `max_rounds`
times. Without one, an answer is exactly one turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from gptbot.core.errors import ProviderError
from gptbot.core.events import Status, StreamError, TextDelta, ThinkingDelta, Usage
from gptbot.core.states import EXTERNAL_SOURCES, THINKING
from gptbot.core.steps import ReasoningStep, Step, ToolStep
from gptbot.core.types import ChatMessage, ChatRequest, ToolCall
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.providers import Provider
from gptbot.llm.tools import Toolbox, ToolContext

log = logging.getLogger(__name__)

TOOL_LIMIT = "tool_round_limit"  # our own finish reason: the model wanted more tool rounds
_CUT_SHORT = "The answer was cut short: it reached the model's length limit."
_FILTERED = "Part of this answer was withheld by the content filter."
FINISH_NOTES = {
    "length": _CUT_SHORT,  # OpenAI, Azure, compatible servers, Ollama
    "max_tokens": _CUT_SHORT,  # Anthropic
    "MAX_TOKENS": _CUT_SHORT,  # Gemini
    "content_filter": _FILTERED,  # OpenAI, Azure
    **dict.fromkeys(
        ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"], _FILTERED
    ),  # Gemini
    "refusal": "The model declined to answer this request.",  # Anthropic
    TOOL_LIMIT: "The answer stopped early: it needed more tool calls than allowed.",
}
LENGTH_LIMITS = ("length", "max_tokens", "MAX_TOKENS")


class TextSink(Protocol):
    """Where the visible answer goes (the reply writer, in production)."""

    def add(self, delta: str) -> None: ...

    def set_state(self, state: str, message: str = "") -> None: ...

    def show_step(self, step: Step) -> None:
        """A tool call or reasoning, shown beside the text (Stream's AI attachments)."""


@dataclass
class Generation:
    text: str = ""
    refusal: str = ""
    finish_reason: str = ""
    usage: Usage | None = None  # summed over all model turns
    tool_rounds: int = 0

    @property
    def note(self) -> str:
        """What to tell the reader about how the answer ended, if anything."""
        return FINISH_NOTES.get(self.finish_reason, "")


def generate(
    provider: Provider,
    request: ChatRequest,
    sink: TextSink,
    tools: Toolbox | None = None,
    max_rounds: int = 4,
    timeout: float = 10.0,
    context: ToolContext | None = None,
    show_reasoning: bool = False,
) -> Generation:
    """Stream the answer into `sink`; raise ProviderError when the model fails. Tool calls
    are shown as steps; the model's reasoning only with `show_reasoning`."""
    result = Generation()
    shown: list[str] = []  # visible text pieces; joined once at the end
    toolbox = tools if tools and max_rounds > 0 else None
    if toolbox:
        request = replace(request, tools=toolbox.specs)
    while True:
        reasoning = Reasoning(sink, f"reasoning-{result.tool_rounds}") if show_reasoning \
            else None
        turn = _model_turn(provider, request, sink, result, shown, reasoning)
        calls = _with_ids(turn.tool_calls, result.tool_rounds)
        if toolbox is None or not calls or turn.finish_reason in LENGTH_LIMITS:
            break
        if result.tool_rounds >= max_rounds:
            result.finish_reason = TOOL_LIMIT
            break
        sink.set_state(EXTERNAL_SOURCES)
        outputs = _shown_tools(toolbox, calls, context or ToolContext(), timeout, sink)
        request = _with_results(request, turn.text, calls, outputs)
        result.tool_rounds += 1
    result.text = "".join(shown)
    if result.refusal and not result.text:
        result.text = result.refusal
        sink.add(result.refusal)
    return result


class Reasoning:
    """One model turn's reasoning, shown as a step while it streams and done at the first
    text (or the end of the turn)."""

    def __init__(self, sink: TextSink, step_id: str, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.sink, self.step_id, self.clock = sink, step_id, clock
        self.text, self.started, self.done = "", 0.0, False

    def add(self, text: str) -> None:
        if self.done:
            return
        self.started = self.started or self.clock()
        self.text += text
        self.sink.show_step(ReasoningStep(self.step_id, self.text))

    def end(self) -> None:
        if self.text and not self.done:
            self.done = True
            seconds = self.clock() - self.started
            self.sink.show_step(ReasoningStep(self.step_id, self.text, True, seconds))


def _model_turn(
    provider: Provider, request: ChatRequest, sink: TextSink, result: Generation,
    shown: list[str], reasoning: Reasoning | None = None,
) -> ChatAccumulator:
    turn = ChatAccumulator()
    earlier = len(shown)  # pieces shown by earlier turns
    for event in provider.stream(request):
        if isinstance(event, StreamError):
            raise ProviderError(f"error inside the stream: {event.message}")
        if isinstance(event, Status):
            sink.set_state(THINKING, event.text)
        if isinstance(event, ThinkingDelta) and reasoning is not None:
            reasoning.add(event.text)
        if isinstance(event, TextDelta):
            if reasoning is not None:
                reasoning.end()
            if len(shown) == earlier and shown and not shown[-1][-1:].isspace():
                _show("\n\n", sink, shown)  # keep an earlier turn's text apart from this one
            _show(event.text, sink, shown)
        turn.add(event)
    if reasoning is not None:
        reasoning.end()
    result.refusal += turn.refusal
    result.finish_reason = turn.finish_reason or result.finish_reason
    result.usage = _total(result.usage, turn.usage)
    return turn


def _show(text: str, sink: TextSink, shown: list[str]) -> None:
    shown.append(text)
    sink.add(text)


def _with_ids(calls: list[ToolCall], round_number: int) -> list[ToolCall]:
    # Gemini and Ollama give no ids, but the results must name the call they answer.
    return [replace(call, id=call.id or f"call_{round_number}_{call.index}") for call in calls]


def _shown_tools(toolbox: Toolbox, calls: list[ToolCall], context: ToolContext,
                 timeout: float, sink: TextSink) -> list[str]:
    """Run one round's calls (at once), each shown as a step from start to result. The calls
    run in parallel, so each is shown with the round's duration."""
    for call in calls:
        sink.show_step(ToolStep(str(call.id), str(call.name)))
    started = time.monotonic()
    outputs = _run_tools(toolbox, calls, context, timeout)
    seconds = time.monotonic() - started
    for call, output in zip(calls, outputs, strict=True):
        sink.show_step(ToolStep(str(call.id), str(call.name), output, seconds))
    return outputs


def _run_tools(
    toolbox: Toolbox, calls: list[ToolCall], context: ToolContext, timeout: float
) -> list[str]:
    import sys  # here, not at the top: this function is the only gevent-aware code here

    log.info("running tools: %s", ", ".join(str(call.name) for call in calls))
    monkey = sys.modules.get("gevent.monkey")
    if not (monkey and monkey.is_module_patched("threading")):
        return toolbox.run_all(calls, context, timeout)
    # Under gevent (the worker process) a "thread" is a greenlet, and a tool that blocks or
    # computes would stall every answer on the hub: run each call in a real OS thread.
    import gevent

    runs = [gevent.get_hub().threadpool.spawn(toolbox.run, call, context) for call in calls]
    gevent.wait(runs, timeout=timeout)
    late = f"Error: the tool did not finish within {timeout:g} s."
    return [run.get() if run.ready() else late for run in runs]


def _with_results(
    request: ChatRequest, text: str, calls: list[ToolCall], outputs: list[str]
) -> ChatRequest:
    """The conversation so far plus the assistant's calls and one result per call."""
    added = [ChatMessage("assistant", text, tool_calls=tuple(calls))]
    added += [
        ChatMessage("tool", output, tool_call_id=call.id, name=call.name)
        for call, output in zip(calls, outputs, strict=True)
    ]
    return replace(request, messages=request.messages + tuple(added))


def _total(total: Usage | None, turn: Usage | None) -> Usage | None:
    """Usage of the answer so far plus one more model turn. Each turn is its own billed
    call (unlike the repeated reports inside one stream), so every count is added."""
    if total is None or turn is None:
        return turn or total
    return Usage(
        _add(total.input_tokens, turn.input_tokens),
        _add(total.output_tokens, turn.output_tokens),
        turn.raw,
        _add(total.cached_input_tokens, turn.cached_input_tokens),
        _add(total.cache_write_tokens, turn.cache_write_tokens),
        _add(total.reasoning_tokens, turn.reasoning_tokens),
    )


def _add(a: int | None, b: int | None) -> int | None:
    # None is "not reported", so it adds nothing; two of them stay unreported.
    return b if a is None else a if b is None else a + b
