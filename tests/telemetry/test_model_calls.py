"""Every metered model call reaches telemetry: tokens, durations, fallbacks, its span."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gptbot.core.errors import LimitReached
from gptbot.core.events import Finish, StreamError, TextDelta, Usage
from gptbot.core.types import CallTag, ChatMessage, ChatRequest
from gptbot.llm.metering import CallRecord, MeteredProvider, Observers
from gptbot.llm.providers.fallback import Candidate, FallbackProvider
from gptbot.telemetry import Telemetry
from gptbot.telemetry.metrics import Metrics
from gptbot.telemetry.tracing import Tracing
from tests.support.fakes import Scripted
from tests.telemetry.support import samples, total

TAG = CallTag("gpt-m1", "alice", "messaging:general")
REQUEST = ChatRequest("gpt-4o-mini", (ChatMessage("user", "What is Stream?"),), tag=TAG)




class Refusing:
    def before_call(self, provider: str, request: ChatRequest) -> object:
        raise LimitReached("the daily budget is used up")

    def after_call(self, ticket: object, record: CallRecord) -> None:
        raise AssertionError("a refused call has no end")


ANSWER = [TextDelta("Chat "), TextDelta("APIs."), Usage(12, 4), Finish("stop")]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(tmp_path, spans) -> Telemetry:
    return Telemetry(Metrics(tmp_path), Tracing.exporting_to(spans))


def found(telemetry: Telemetry) -> dict:
    return samples(telemetry.exposition()[0].decode())


def test_a_call_is_measured_and_traced_with_the_genai_names(telemetry, spans):
    list(MeteredProvider(Scripted("openai", ANSWER), telemetry.model_calls).stream(REQUEST))
    metrics = found(telemetry)
    labels = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o-mini"}
    assert total(metrics, "gen_ai_client_token_usage_sum", gen_ai_token_type="input",
                 **labels) == 12
    assert total(metrics, "gen_ai_client_token_usage_sum", gen_ai_token_type="output") == 4
    assert total(metrics, "gen_ai_client_operation_duration_seconds_count", **labels) == 1
    [span] = spans.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.conversation.id"] == "messaging:general"
    assert "gen_ai.input.messages" not in span.attributes  # content stays home by default


def test_a_fallback_is_counted_with_why_the_one_before_failed(telemetry, spans):
    observer = telemetry.model_calls
    chain = FallbackProvider([
        Candidate(MeteredProvider(Scripted("openai", [], fail=True), observer)),
        Candidate(MeteredProvider(Scripted("anthropic", [StreamError("Overloaded")]), observer),
                  "claude-3-5-haiku-latest"),
        Candidate(MeteredProvider(Scripted("gemini", ANSWER), observer), "gemini-2.0-flash"),
    ])
    list(chain.stream(REQUEST))
    metrics = found(telemetry)
    assert total(metrics, "gptbot_fallbacks_total", reason="ProviderError") == 1
    assert total(metrics, "gptbot_fallbacks_total", reason="stream") == 1  # an error event
    assert total(metrics, "gen_ai_client_operation_duration_seconds_count",
                 error_type="ProviderError") == 1
    assert total(metrics, "gen_ai_client_token_usage_sum",
                 gen_ai_provider_name="gcp.gemini") == 16
    statuses = {s.attributes["gen_ai.provider.name"]: s.status.status_code.name
                for s in spans.get_finished_spans()}
    assert statuses == {"openai": "ERROR", "anthropic": "ERROR", "gcp.gemini": "UNSET"}


def test_a_call_the_accountant_refuses_reaches_no_telemetry(telemetry, spans):
    provider = MeteredProvider(Scripted("openai", ANSWER), Observers(Refusing(),
                                                                     telemetry.model_calls))
    with pytest.raises(LimitReached):
        list(provider.stream(REQUEST))
    assert spans.get_finished_spans() == ()
    assert total(found(telemetry), "gen_ai_client_operation_duration_seconds_count") == 0


def test_a_stopped_call_is_stopped_and_an_error_event_stays_an_error():
    records: list[CallRecord] = []

    class Keep:
        def before_call(self, provider: str, request: ChatRequest) -> object:
            return None

        def after_call(self, ticket: object, record: CallRecord) -> None:
            records.append(record)

    for events in (ANSWER, [StreamError("Overloaded"), TextDelta("x")]):
        stream = MeteredProvider(Scripted("openai", events), Keep()).stream(REQUEST)
        next(stream)
        stream.close()
    assert [r.outcome for r in records] == ["stopped", "error:stream"]


def test_content_is_captured_only_when_asked():
    exporter = InMemorySpanExporter()
    telemetry = Telemetry(None, Tracing.exporting_to(exporter, capture_content=True))
    list(MeteredProvider(Scripted("openai", ANSWER), telemetry.model_calls).stream(REQUEST))
    [span] = exporter.get_finished_spans()
    assert "What is Stream?" in span.attributes["gen_ai.input.messages"]
    assert "Chat APIs." in span.attributes["gen_ai.output.messages"]
