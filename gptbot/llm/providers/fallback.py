"""A provider that tries a chain of provider:model pairs in order (GPTBOT_FALLBACK).

The next pair is tried only when the current one fails before producing anything
(connection refused, overloaded, timed out, an error event before the first token).
Once output flows the answer is committed: repeating half an answer from another
model would be worse than saying it broke. Rejected credentials or requests
(ProviderAuthError) are final too: they need an operator, not another model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

from gptbot.core.errors import ProviderAuthError, ProviderError
from gptbot.core.events import StreamError, StreamEvent, Usage
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.base import Provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    provider: Provider
    model: str | None = None  # None: keep the request's model (the primary)

    def label(self, request: ChatRequest) -> str:
        return f"{self.provider.name}:{self.model or request.model}"


class FallbackProvider:
    def __init__(self, candidates: list[Candidate]) -> None:
        if not candidates:
            raise ValueError("a fallback chain needs at least one provider")
        self.candidates = candidates
        self.name = candidates[0].provider.name

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        failure: ProviderError | None = None
        for position, candidate in enumerate(self.candidates):
            attempt = _attempt(request, candidate, position)
            events = iter(candidate.provider.stream(attempt))
            try:
                head = _until_first_output(events)
            except ProviderAuthError:
                raise
            except ProviderError as exc:
                log.warning("%s failed before answering: %s", candidate.label(request), exc)
                failure = exc
                continue
            if position:
                log.info("answer comes from fallback %s", candidate.label(request))
            yield from head
            yield from events
            return
        assert failure is not None
        raise failure


def _attempt(request: ChatRequest, candidate: Candidate, position: int) -> ChatRequest:
    attempt = replace(request, model=candidate.model) if candidate.model else request
    if position and request.tag:  # billed as a fallback, not as the primary's answer
        attempt = replace(attempt, tag=replace(request.tag, purpose="fallback"))
    return attempt


def _until_first_output(events: Iterator[StreamEvent]) -> list[StreamEvent]:
    """Read up to the first event that commits the answer; raise if it is an error.

    Usage is not output: Anthropic reports input tokens before an `overloaded` error.
    """
    head: list[StreamEvent] = []
    for event in events:
        if isinstance(event, StreamError):
            _close(events)
            raise ProviderError(f"error inside the stream: {event.message}")
        head.append(event)
        if not isinstance(event, Usage):
            break
    return head


def _close(events: Iterator[StreamEvent]) -> None:
    close = getattr(events, "close", None)  # generators: release the HTTP response now
    if close is not None:
        close()
