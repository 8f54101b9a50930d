"""gptbot's Prometheus metrics, in prometheus-client's multiprocess mode.

The GenAI ones carry the OpenTelemetry names in Prometheus spelling, so dashboards made for
the convention work. Labels are bounded sets (outcomes, kinds, providers, models, channel
types); never a user or channel id, which would make a series per person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from gptbot.telemetry import genai
from gptbot.telemetry.multiprocess import values_in

log = logging.getLogger(__name__)
P = ParamSpec("P")

# The GenAI convention's advised buckets (tokens: powers of 4; seconds: doubling from 10 ms).
TOKEN_BUCKETS = tuple(4.0**n for n in range(14))
DURATION_BUCKETS = tuple(0.01 * 2**n for n in range(14))
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0)  # Stream waits ~1 s
GENAI_LABELS = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model")

WEBHOOK_OUTCOMES = ("acked", "duplicate", "refused_limit", "bad_signature", "bad_request",
                    "error")
JOB_STATES = ("queued", "running")
JOB_OUTCOMES = ("done", "failed", "stopped", "requeued")
WRITE_KINDS = ("persisted", "broadcast", "event", "throttled")
OTHER = "other"  # a value outside a label's set: counted, without a new series per typo


def never_raises(method: Callable[P, None]) -> Callable[P, None]:
    """A metric must never cost an answer: a failed update is logged and forgotten."""
    @wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception as exc:
            log.debug("metric update %s failed: %s", method.__name__, exc)
    return guarded


class Metrics:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        with values_in(directory):  # every kind of file opens here, in this directory
            self._genai()
            self._gptbot()
            self._known_series()
        # Its own registry: the collector that adds up every process's files, and the jobs.
        self.registry = CollectorRegistry()
        MultiProcessCollector(self.registry, path=str(directory))
        self.jobs = LatestCounts()
        self.registry.register(self.jobs)

    def _genai(self) -> None:
        self.tokens = Histogram(
            "gen_ai_client_token_usage", "Tokens used per model call (input or output).",
            (*GENAI_LABELS, "gen_ai_token_type"), buckets=TOKEN_BUCKETS, registry=None)
        self.duration = Histogram(
            "gen_ai_client_operation_duration_seconds", "Model call duration.",
            (*GENAI_LABELS, "error_type"), buckets=DURATION_BUCKETS, registry=None)
        self.first_chunk = Histogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            "Time from the request to the model's first output.",
            GENAI_LABELS, buckets=DURATION_BUCKETS, registry=None)

    def _gptbot(self) -> None:
        self.webhooks = Counter("gptbot_webhook_requests_total",
                                "Command webhooks by outcome.", ("outcome",), registry=None)
        self.ack = Histogram("gptbot_webhook_ack_seconds", "Time to answer a command webhook.",
                             buckets=ACK_BUCKETS, registry=None)
        self.jobs_done = Counter("gptbot_jobs_total", "Finished jobs by outcome.",
                                 ("outcome",), registry=None)
        self.writes = Counter("gptbot_stream_writes_total", "Writes to Stream by kind.",
                              ("kind",), registry=None)
        self.stream_errors = Counter("gptbot_stream_errors_total",
                                     "Errors Stream answered, by code.", ("code",),
                                     registry=None)
        self.fallbacks = Counter("gptbot_fallbacks_total",
                                 "Answers that came from a fallback model, by the reason.",
                                 ("reason",), registry=None)
        self.cost = Counter("gptbot_cost_usd_total", "Spend on model calls, in USD.",
                            registry=None)

    def _known_series(self) -> None:
        """Each known outcome at 0 from the start, so the first one is a rise in rate()."""
        for counter, values in ((self.webhooks, WEBHOOK_OUTCOMES), (self.jobs_done, JOB_OUTCOMES),
                                (self.writes, WRITE_KINDS)):
            for value in values:
                counter.labels(value)

    def exposition(self) -> tuple[bytes, str]:
        """Every process's numbers, in Prometheus's text format."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4

    @never_raises
    def model_call(self, call: genai.ModelCall) -> None:
        labels = (genai.OPERATION, genai.provider_name(call.provider), call.model)
        usage = call.usage
        if usage.input_tokens is not None:
            self.tokens.labels(*labels, "input").observe(usage.input_tokens)
        if usage.output_tokens is not None:
            self.tokens.labels(*labels, "output").observe(usage.output_tokens)
        self.duration.labels(*labels, genai.error_type(call.outcome)).observe(call.total_s)
        if call.first_token_s is not None:
            self.first_chunk.labels(*labels).observe(call.first_token_s)

    @never_raises
    def webhook(self, outcome: str, seconds: float) -> None:
        self.webhooks.labels(_one_of(outcome, WEBHOOK_OUTCOMES)).inc()
        self.ack.observe(seconds)

    @never_raises
    def job_finished(self, outcome: str) -> None:
        self.jobs_done.labels(_one_of(outcome, JOB_OUTCOMES)).inc()

    @never_raises
    def jobs_gauge(self, state: str, count: int) -> None:
        self.jobs.counts[_one_of(state, JOB_STATES)] = count

    @never_raises
    def stream_write(self, kind: str) -> None:
        self.writes.labels(_one_of(kind, WRITE_KINDS)).inc()

    @never_raises
    def stream_error(self, code: object) -> None:
        self.stream_errors.labels(str(code)).inc()

    @never_raises
    def fallback(self, reason: str) -> None:
        self.fallbacks.labels(reason).inc()

    @never_raises
    def spent(self, usd: float) -> None:
        if usd > 0:
            self.cost.inc(usd)


class LatestCounts:
    """gptbot_jobs{state}: deployment-wide counts (the queue's, the store's), as last
    reported to this process. Kept in memory, not in the multiprocess files: there its family
    name would be gptbot_jobs_total's, and the two would be merged into one."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("gptbot_jobs", "Jobs queued and running.", labels=["state"])
        for state, count in sorted(self.counts.items()):
            family.add_metric([state], count)
        yield family


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else OTHER
