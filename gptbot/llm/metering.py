"""Every model call, measured: who it was for, what it used, how long it took, how it ended.

`MeteredProvider` wraps one provider; an observer (the cost accountant, in production) may
refuse a call before it starts (a budget is used up) and learns its usage after it ends, even
when it failed or was stopped half-way. Usage is the provider's own report; when a stream
reported none, the call is estimated from the text and marked so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from gptbot.core.events import (
    RefusalDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from gptbot.core.types import CallTag, ChatRequest
from gptbot.llm.tokens import estimate_tokens, messages_tokens

if TYPE_CHECKING:  # the provider package imports this module to wrap its providers
    from gptbot.llm.providers.base import Provider

OUTPUT = (TextDelta, RefusalDelta, ToolCallDelta)


@dataclass(frozen=True, slots=True)
class CallRecord:
    provider: str
    model: str
    tag: CallTag | None
    started_at: float  # wall clock
    usage: Usage
    estimated: bool  # the stream reported no usage: these numbers are our estimate
    first_token_s: float | None
    total_s: float
    outcome: str  # ok | stopped | error:<kind>


class CallObserver(Protocol):
    def before_call(self, provider: str, request: ChatRequest) -> object:
        """Raise LimitReached to refuse the call; the return value comes back in after_call."""

    def after_call(self, ticket: object, record: CallRecord) -> None: ...


class MeteredProvider:
    def __init__(
        self,
        inner: Provider,
        observer: CallObserver,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.observer = observer
        self.clock = clock
        self.wall = wall

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        request = _tagged_purpose(request)
        ticket = self.observer.before_call(self.name, request)
        meter = _Meter(request, self.clock(), self.wall())
        try:
            for event in self.inner.stream(request):
                meter.see(event, self.clock())
                yield event
        except GeneratorExit:  # the consumer stopped reading: a Stop, or a fallback's retreat
            meter.outcome = "stopped"
            raise
        except Exception as exc:
            meter.outcome = f"error:{type(exc).__name__}"
            raise
        finally:
            self.observer.after_call(ticket, meter.record(self.name, self.clock()))


def _tagged_purpose(request: ChatRequest) -> ChatRequest:
    """A request that carries tool results is a tool round, whatever its tag says."""
    tag = request.tag
    if tag and tag.purpose == "answer" and request.messages[-1:] and \
            request.messages[-1].role == "tool":
        return replace(request, tag=replace(tag, purpose="tool_round"))
    return request


class _Meter:
    def __init__(self, request: ChatRequest, start: float, wall: float) -> None:
        self.request = request
        self.start = start
        self.wall = wall
        self.first: float | None = None
        self.usage: Usage | None = None
        self.text: list[str] = []
        self.outcome = "ok"

    def see(self, event: StreamEvent, now: float) -> None:
        if isinstance(event, OUTPUT) and self.first is None:
            self.first = now - self.start
        if isinstance(event, TextDelta | RefusalDelta):
            self.text.append(event.text)
        elif isinstance(event, ToolCallDelta):
            self.text.append(event.arguments + (event.name or ""))
        elif isinstance(event, Usage):
            self.usage = self.usage.updated(event) if self.usage else event
        elif isinstance(event, StreamError):
            self.outcome = "error:stream"

    def record(self, provider: str, now: float) -> CallRecord:
        usage, estimated = self._usage()
        return CallRecord(provider, self.request.model, self.request.tag, self.wall, usage,
                          estimated, self.first, now - self.start, self.outcome)

    def _usage(self) -> tuple[Usage, bool]:
        reported = self.usage
        if reported and reported.input_tokens is not None and reported.output_tokens is not None:
            return reported, False
        estimate = Usage(messages_tokens(self.request.messages),
                         estimate_tokens("".join(self.text)))
        return (estimate.updated(reported) if reported else estimate), True
