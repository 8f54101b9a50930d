"""One trace per command: the webhook, the queued job (its context crossed the queue in the
payload), and every model call with the GenAI attributes, down to the final write."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gptbot.telemetry import Telemetry, traceparent, tracing_for, with_traceparent
from gptbot.telemetry.logs import CORRELATION_ID
from gptbot.telemetry.metrics import Metrics
from gptbot.telemetry.tracing import Tracing, traces_url
from tests.support.common import make_config
from tests.support.loop import wait_for
from tests.telemetry.support import USAGE_IN, USAGE_OUT, bot

ROOT = Path(__file__).resolve().parents[2]


def traced(tmp_path, capture_content: bool = False) -> tuple[Telemetry, InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    tracing = Tracing.exporting_to(spans, capture_content)
    return Telemetry(Metrics(tmp_path / "metrics"), tracing), spans


def by_trace(spans: InMemorySpanExporter) -> dict[int, dict[str, object]]:
    traces: dict[int, dict[str, object]] = defaultdict(dict)
    for span in spans.get_finished_spans():
        traces[span.context.trace_id][span.kind.name] = span
    return traces


def test_each_command_is_one_trace_from_the_webhook_to_the_model_and_back(tmp_path):
    telemetry, spans = traced(tmp_path)
    with bot(tmp_path, telemetry) as b:
        first = b.ask("/gpt What is the answer?")
        second = b.ask("/gpt And the question?", user="bob")
        wait_for(lambda: sum(s.kind == SpanKind.CONSUMER for s in spans.get_finished_spans())
                 == 2, 15, "both jobs' spans")

    traces = by_trace(spans)
    assert len(traces) == 2
    for trace, question in zip(_ordered(traces), (first, second), strict=True):
        webhook, job, chat = trace["SERVER"], trace["CONSUMER"], trace["CLIENT"]
        assert webhook.parent is None and webhook.name == "POST /webhooks/stream/<command>"
        assert webhook.attributes["gptbot.webhook.outcome"] == "acked"
        assert webhook.attributes["gptbot.reply_id"] == f"gpt-{question['id']}"
        assert job.parent.span_id == webhook.context.span_id  # across the queue
        assert job.attributes["gen_ai.conversation.id"] == "messaging:general"
        assert chat.parent.span_id == job.context.span_id
        assert chat.end_time <= job.end_time  # the job's span closes after the final write
        assert {k: v for k, v in chat.attributes.items() if k.startswith("gen_ai.")} == {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.max_tokens": 1024,
            "gen_ai.conversation.id": "messaging:general",
            "gen_ai.usage.input_tokens": USAGE_IN,
            "gen_ai.usage.output_tokens": USAGE_OUT,
            "gen_ai.response.finish_reasons": ("stop",),
        }


def test_message_content_leaves_only_when_the_operator_asks(tmp_path):
    telemetry, spans = traced(tmp_path, capture_content=True)
    with bot(tmp_path, telemetry) as b:
        b.ask("/gpt What is the answer?")
        wait_for(lambda: any(s.kind == SpanKind.CLIENT for s in spans.get_finished_spans()),
                 15, "the model call's span")
    [chat] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert "What is the answer?" in chat.attributes["gen_ai.input.messages"]
    assert "forty-two." in chat.attributes["gen_ai.output.messages"]


def test_without_a_span_the_payload_is_left_as_it_is():
    assert traceparent() is None
    assert with_traceparent({"reply_id": "gpt-1"}) == {"reply_id": "gpt-1"}


def test_a_job_without_a_traceparent_starts_a_trace_and_leaves_no_id_behind():
    spans = InMemorySpanExporter()
    telemetry = Telemetry(None, Tracing.exporting_to(spans))
    with telemetry.job({"reply_id": "gpt-9", "kind": "summarize"}):
        assert CORRELATION_ID.get() == "gpt-9"
        telemetry.job_finished("done")
    assert CORRELATION_ID.get() is None
    [span] = spans.get_finished_spans()
    assert span.parent is None and span.name == "summarize job"
    assert span.attributes["gptbot.job.outcome"] == "done"


def test_traces_are_on_only_with_an_endpoint_and_go_to_its_traces_path(tmp_path):
    assert tracing_for(make_config(tmp_path)) is None
    tracing = tracing_for(make_config(tmp_path, otel_endpoint="http://collector:4318/"))
    assert isinstance(tracing, Tracing)
    tracing.close()
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://c/v1/traces") == "http://c/v1/traces"


def _ordered(traces: dict[int, dict[str, object]]) -> list[dict[str, object]]:
    return sorted(traces.values(), key=lambda trace: trace["SERVER"].start_time)


def test_an_untraced_webhook_loads_no_tracing(tmp_path):
    """Without OTEL_EXPORTER_OTLP_ENDPOINT the first webhook must not import the OTLP
    exporter (it cost that webhook ~50 ms): checked in a fresh interpreter."""
    script = f"""
import json, sys
from tests.support.common import API_KEY, API_SECRET, command_payload, signed_headers
from gptbot.config import Config
from gptbot.services import build_services
from gptbot.web.app import create_app
import opentelemetry.trace  # as another library may have done
config = Config.from_env({{"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
    "OPENAI_API_KEY": "x", "GPTBOT_DATA_DIR": {str(tmp_path)!r},
    "GPTBOT_EMBEDDED_WORKER": "false"}})
body = json.dumps(command_payload("hello", message_id="m1")).encode()
client = create_app(config, build_services(config)).test_client()
response = client.post("/webhooks/stream/gpt", data=body, headers=signed_headers(body, "w1"))
assert response.status_code == 200, response.text
print(sorted(m for m in sys.modules if m.startswith(("gptbot.telemetry.tracing",
                                                     "opentelemetry.exporter"))))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
