"""Every model call, measured: who it was for, what it used, how long it took, how it ended.

`MeteredProvider` wraps one provider; an observer (the cost accountant, in production) may
refuse a call before it starts (a budget is used up) and learns its usage after it ends, even
when it failed or was stopped half-way. Usage is the provider's own report; when a stream
reported none, the call is estimated from the text and marked so. `Observers` hands each
call to several observers in turn (the accountant, then telemetry).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from gptbot.core.events import (
    Finish,
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
    finish_reason: str | None = None  # the provider's own (stop, length, tool_calls…)
    text: str = field(default="", repr=False)  # the output: for traces that may capture it


class CallObserver(Protocol):
    def before_call(self, provider: str, request: ChatRequest) -> object:
        """Raise LimitReached to refuse the call; the return value comes back in after_call."""

    def after_call(self, ticket: object, record: CallRecord) -> None: ...


class Observers:
    """Several observers of every call, asked in order. Only the first may refuse a call:
    one after it that refused would leave the first's reservation unsettled."""

    def __init__(self, *observers: CallObserver) -> None:
        self.observers = observers

    def before_call(self, provider: str, request: ChatRequest) -> object:
        return [observer.before_call(provider, request) for observer in self.observers]

    def after_call(self, ticket: object, record: CallRecord) -> None:
        assert isinstance(ticket, list)
        for observer, own in zip(self.observers, ticket, strict=True):
            observer.after_call(own, record)


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
            # …after an error event, the error is what happened (and why a fallback ran).
            meter.outcome = "stopped" if meter.outcome == "ok" else meter.outcome
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
        self.finish: str | None = None

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
        elif isinstance(event, Finish):
            self.finish = event.reason

    def record(self, provider: str, now: float) -> CallRecord:
        usage, estimated = self._usage()
        return CallRecord(provider, self.request.model, self.request.tag, self.wall, usage,
                          estimated, self.first, now - self.start, self.outcome, self.finish,
                          "".join(self.text))

    def _usage(self) -> tuple[Usage, bool]:
        reported = self.usage
        if reported and reported.input_tokens is not None and reported.output_tokens is not None:
            return reported, False
        estimate = Usage(messages_tokens(self.request.messages),
                         estimate_tokens("".join(self.text)))
        return (estimate.updated(reported) if reported else estimate), True
