"""Telemetry: Prometheus metrics, optional OpenTelemetry traces, and log lines that carry
each command's correlation id.

Owns `Telemetry`, the one object the parts report to (built once per process by
`gptbot.services.build_services` and handed to the parts that report), the metrics
(`metrics`, in prometheus-client's multiprocess mode: `multiprocess`), the traces
(`tracing`, imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set), the GenAI vocabulary
(`genai`), the model-call observer (`calls`), log formatting and redaction (`logs`) and
readiness checks (`health`).
May import: gptbot.config and gptbot.core (every other part may import it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.telemetry.calls import ModelCalls
from gptbot.telemetry.logs import correlated, set_correlation_id
from gptbot.telemetry.metrics import Metrics
from gptbot.telemetry.multiprocess import metrics_directory

if TYPE_CHECKING:
    from gptbot.telemetry.tracing import Tracing

TRACEPARENT = "traceparent"  # the job payload's key for the W3C trace context


class WebhookScope:
    """One command webhook being answered: the route says how it ended."""

    def __init__(self, span: Any) -> None:
        self.span = span
        self.outcome = "error"  # unless the route says otherwise, it raised

    def correlate(self, correlation_id: str) -> None:
        """From here on the command's own id (its reply id), also in the job's lines."""
        set_correlation_id(correlation_id)
        if self.span is not None:
            self.span.set_attribute("gptbot.reply_id", correlation_id)


class Telemetry:
    def __init__(self, metrics: Metrics | None, tracing: Tracing | None = None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self.model_calls = ModelCalls(metrics, tracing)  # a CallObserver of every model call

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> Telemetry:
        return cls(Metrics(metrics_directory(config, environ)), tracing_for(config))

    @classmethod
    def off(cls) -> Telemetry:
        """Reports go nowhere: for parts built without a Telemetry (tests, tools)."""
        return cls(None, None)

    @contextmanager
    def webhook(self, route: str) -> Iterator[WebhookScope]:
        """Times and counts one command webhook, as the root span of the command's trace."""
        started = time.monotonic()
        with self._span(lambda tracing: tracing.webhook(route)) as span:
            scope = WebhookScope(span)
            try:
                yield scope
            finally:
                self._webhook_done(scope, time.monotonic() - started)

    def _webhook_done(self, scope: WebhookScope, seconds: float) -> None:
        if self.metrics:
            self.metrics.webhook(scope.outcome, seconds)
        if scope.span is not None and self.tracing:
            self.tracing.webhook_done(scope.span, scope.outcome)

    @contextmanager
    def job(self, payload: Mapping[str, Any]) -> Iterator[None]:
        """A job's run: its lines carry the reply id, its spans continue the webhook's trace."""
        with correlated(str(payload.get("reply_id") or "") or None), \
                self._span(lambda tracing: tracing.job(payload)):
            yield

    def job_finished(self, outcome: str) -> None:
        """done | failed | stopped | requeued; inside `job`, also on the job's span."""
        if self.metrics:
            self.metrics.job_finished(outcome)
        if self.tracing:
            self.tracing.annotate({"gptbot.job.outcome": outcome})

    def jobs_gauge(self, queued: int | None = None, running: int | None = None) -> None:
        """Deployment-wide counts (the store's, the queue's), held by this process until the
        next report; /metrics refreshes `queued` from the queue at every scrape."""
        for state, count in (("queued", queued), ("running", running)):
            if self.metrics and count is not None:
                self.metrics.jobs_gauge(state, count)

    def stream_write(self, kind: str) -> None:
        """persisted | broadcast | event | throttled (an update the write budget skipped)."""
        if self.metrics:
            self.metrics.stream_write(kind)
        if self.tracing:
            self.tracing.event("gptbot.stream.write", {"kind": kind})

    def stream_error(self, code: int | str | None) -> None:
        """Stream's error code (or the HTTP status when it gave none)."""
        if self.metrics:
            self.metrics.stream_error("none" if code is None else code)
        if self.tracing:
            self.tracing.event("gptbot.stream.error", {"code": str(code)})

    def spent(self, usd: float) -> None:
        if self.metrics:
            self.metrics.spent(usd)

    def exposition(self) -> tuple[bytes, str]:
        if self.metrics is None:
            return b"", "text/plain; version=0.0.4; charset=utf-8"
        return self.metrics.exposition()

    def close(self) -> None:
        if self.tracing:
            self.tracing.close()

    def _span(self, start: Callable[[Tracing], Any]) -> Any:
        return start(self.tracing) if self.tracing else nullcontext(None)


def tracing_for(config: Config) -> Tracing | None:
    if not config.otel_endpoint:
        return None
    try:
        from gptbot.telemetry.tracing import Tracing
    except ImportError as exc:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            f"pip install 'gptbot[otel]' ({exc})") from exc
    return Tracing.otlp(config.otel_endpoint, config.otel_capture_content)


def traceparent() -> str | None:
    """The W3C traceparent of the span current on this thread, for a job's payload; None
    when nothing is traced. Our spans all come from telemetry/tracing.py: while it is not
    loaded none can be current, and loading it here (the OTLP exporter with it) cost the
    first webhook ~50 ms. Other libraries import `opentelemetry.trace` for themselves."""
    if "gptbot.telemetry.tracing" not in sys.modules:
        return None
    from gptbot.telemetry.tracing import current_traceparent

    return current_traceparent()


def with_traceparent(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload, plus the current trace context when there is one."""
    parent = traceparent()
    return {**payload, TRACEPARENT: parent} if parent else payload


__all__ = ["TRACEPARENT", "Telemetry", "WebhookScope", "traceparent", "with_traceparent"]
