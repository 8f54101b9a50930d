"""Every metered model call, to the metrics and the trace: an observer of
`gptbot.llm.metering.MeteredProvider`, beside the cost accountant.

It never refuses a call and never raises: whatever telemetry does, the answer goes on.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gptbot.core.types import ChatRequest
from gptbot.telemetry import genai
from gptbot.telemetry.metrics import Metrics

if TYPE_CHECKING:  # OpenTelemetry is optional: imported only when traces are on
    from gptbot.telemetry.tracing import Tracing

log = logging.getLogger(__name__)
FALLBACK = "fallback"  # CallTag.purpose of an attempt after the primary failed


@dataclass(frozen=True, slots=True)
class CallTicket:
    span: Any  # the call's span, or None without traces
    fallback_reason: str | None  # set on a fallback attempt: why the one before failed


class ModelCalls:
    def __init__(self, metrics: Metrics | None, tracing: Tracing | None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        # Why the last call on this thread failed: a fallback attempt follows its failed
        # predecessor on the same thread (gptbot.llm.providers.fallback), and says why.
        self._failures = threading.local()

    def before_call(self, provider: str, request: ChatRequest) -> CallTicket:
        try:
            return CallTicket(self._span(provider, request), self._fallback_reason(request))
        except Exception as exc:
            log.debug("could not start tracing a call to %s: %s", provider, exc)
            return CallTicket(None, None)

    def after_call(self, ticket: object, record: genai.ModelCall) -> None:
        assert isinstance(ticket, CallTicket)
        try:
            self._measure(ticket, record)
            if ticket.span is not None and self.tracing:
                self.tracing.end_model_call(ticket.span, record)
        except Exception as exc:
            log.debug("could not report a call to %s: %s", record.provider, exc)
        self._failures.last = genai.error_type(record.outcome) or None

    def _span(self, provider: str, request: ChatRequest) -> Any:
        return self.tracing.start_model_call(provider, request) if self.tracing else None

    def _fallback_reason(self, request: ChatRequest) -> str | None:
        if not (request.tag and request.tag.purpose == FALLBACK):
            return None
        return getattr(self._failures, "last", None) or "unknown"

    def _measure(self, ticket: CallTicket, record: genai.ModelCall) -> None:
        if self.metrics is None:
            return
        self.metrics.model_call(record)
        if ticket.fallback_reason:
            self.metrics.fallback(ticket.fallback_reason)
