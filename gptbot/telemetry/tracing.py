"""Traces over OTLP/HTTP: one trace per command, from the webhook through the queued job
to the final write, with a GenAI span for every model call.

Imported only when traces are on (OTEL_EXPORTER_OTLP_ENDPOINT), since OpenTelemetry is an
optional extra (`gptbot[otel]`). The tracer provider is this object's own, never the
process-wide global, so a library that also uses OpenTelemetry is not affected.
The trace crosses the queue as a W3C `traceparent` in the job payload.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gptbot.core.types import ChatRequest
from gptbot.telemetry import TRACEPARENT, genai


class Tracing:
    def __init__(self, provider: TracerProvider, capture_content: bool = False) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("gptbot")
        self.capture_content = capture_content

    @classmethod
    def otlp(cls, endpoint: str, capture_content: bool = False) -> Tracing:
        """Batched export, off the request and worker threads."""
        provider = TracerProvider(resource=resource())
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(traces_url(endpoint))))
        return cls(provider, capture_content)

    @classmethod
    def exporting_to(cls, exporter: SpanExporter, capture_content: bool = False) -> Tracing:
        """Each span handed over as it ends (tests, with the in-memory exporter)."""
        provider = TracerProvider(resource=resource())
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return cls(provider, capture_content)

    @contextmanager
    def webhook(self, route: str) -> Iterator[Span]:
        """The trace's root: Stream's call. An empty parent context: neither an incoming
        traceparent nor a span left current on this thread; each command is its own trace."""
        attributes = {"http.request.method": "POST", "http.route": route}
        # A refused signature is the caller's error, not ours: the outcome sets the status.
        with self.tracer.start_as_current_span(f"POST {route}", context=Context(),
                                               kind=SpanKind.SERVER, attributes=attributes,
                                               set_status_on_exception=False) as span:
            yield span

    def webhook_done(self, span: Span, outcome: str) -> None:
        span.set_attribute("gptbot.webhook.outcome", outcome)
        if outcome == "error":
            span.set_status(Status(StatusCode.ERROR, "webhook failed"))

    @contextmanager
    def job(self, payload: Mapping[str, Any]) -> Iterator[Span]:
        """The queued job, continuing the webhook's trace from its payload."""
        parent = TraceContextTextMapPropagator().extract(
            {TRACEPARENT: str(payload.get(TRACEPARENT) or "")})
        with self.tracer.start_as_current_span(f"{payload.get('kind') or 'answer'} job",
                                               context=parent, kind=SpanKind.CONSUMER,
                                               attributes=job_attributes(payload)) as span:
            yield span

    def start_model_call(self, provider: str, request: ChatRequest) -> Span:
        """A child of the job's span; not made current, since the call's events are
        yielded across frames the span does not own."""
        attributes = genai.request_attributes(provider, request, self.capture_content)
        return self.tracer.start_span(genai.span_name(request), kind=SpanKind.CLIENT,
                                      attributes=attributes)

    def end_model_call(self, span: Span, call: genai.ModelCall) -> None:
        span.set_attributes(genai.response_attributes(call, self.capture_content))
        if genai.error_type(call.outcome):
            span.set_status(Status(StatusCode.ERROR, genai.error_type(call.outcome)))
        span.end()

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        """On the span current on this thread (the job's, inside `job`)."""
        trace.get_current_span().set_attributes(dict(attributes))

    def event(self, name: str, attributes: Mapping[str, Any]) -> None:
        trace.get_current_span().add_event(name, dict(attributes))

    def close(self) -> None:
        self.provider.shutdown()  # exports what the batch still holds


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get(TRACEPARENT)


def job_attributes(payload: Mapping[str, Any]) -> dict[str, Any]:
    attributes = {"gptbot.reply_id": str(payload.get("reply_id") or ""),
                  "gptbot.job.kind": str(payload.get("kind") or "answer")}
    if payload.get("channel_type") and payload.get("channel_id"):
        attributes["gen_ai.conversation.id"] = f"{payload['channel_type']}:{payload['channel_id']}"
    return attributes


def resource() -> Resource:
    """OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES as the operator set them; "gptbot"
    when they name no service."""
    detected = Resource.create()
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return detected.merge(Resource({"service.name": "gptbot"}))
    return detected


def traces_url(endpoint: str) -> str:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to /v1/traces."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else base + "/v1/traces"
