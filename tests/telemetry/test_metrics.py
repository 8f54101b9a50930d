"""Metrics in multiprocess mode: every process's numbers add up in one directory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from gptbot.core.events import Usage
from gptbot.llm.metering import CallRecord
from gptbot.telemetry import Telemetry
from gptbot.telemetry.metrics import Metrics
from gptbot.telemetry.multiprocess import ENV, metrics_directory
from tests.support.common import make_config
from tests.telemetry.support import samples, total

ROOT = Path(__file__).resolve().parents[2]
OTHER_PROCESS = """
    import sys
    from pathlib import Path
    from gptbot.telemetry.metrics import Metrics
    metrics = Metrics(Path(sys.argv[1]))
    metrics.webhook("acked", 0.2)
    metrics.job_finished("done")
    metrics.spent(0.25)
"""


def scrape(metrics: Metrics) -> dict:
    return samples(metrics.exposition()[0].decode())


def test_a_scrape_adds_up_every_process_of_the_deployment(tmp_path):
    here = Metrics(tmp_path)
    here.webhook("acked", 0.1)
    here.spent(0.5)
    for _ in range(2):  # two other processes (gunicorn workers, `gptbot worker`)
        subprocess.run([sys.executable, "-c", textwrap.dedent(OTHER_PROCESS), str(tmp_path)],
                       check=True, cwd=ROOT)
    found = scrape(here)
    assert total(found, "gptbot_webhook_requests_total", outcome="acked") == 3
    assert total(found, "gptbot_webhook_ack_seconds_count") == 3
    assert total(found, "gptbot_jobs_total", outcome="done") == 2
    assert total(found, "gptbot_cost_usd_total") == 1.0


def test_known_outcomes_start_at_zero_and_unknown_values_share_one_series(tmp_path):
    metrics = Metrics(tmp_path)
    metrics.stream_write("persisted")
    metrics.stream_write("mystery")
    found = scrape(metrics)
    assert total(found, "gptbot_webhook_requests_total", outcome="refused_limit") == 0
    assert ("gptbot_jobs_total", frozenset({("outcome", "requeued")})) in found
    assert total(found, "gptbot_stream_writes_total", kind="persisted") == 1
    assert total(found, "gptbot_stream_writes_total", kind="other") == 1


def test_jobs_gauge_reports_the_latest_count(tmp_path):
    telemetry = Telemetry(Metrics(tmp_path))
    telemetry.jobs_gauge(queued=5, running=2)
    telemetry.jobs_gauge(queued=1)
    found = scrape(telemetry.metrics)
    assert total(found, "gptbot_jobs", state="queued") == 1
    assert total(found, "gptbot_jobs", state="running") == 2


def test_the_directory_is_under_the_data_dir_unless_the_operator_named_one(tmp_path):
    config = make_config(tmp_path)
    assert metrics_directory(config, {}) == (tmp_path / "metrics").resolve()
    assert (tmp_path / "metrics").is_dir()
    chosen = tmp_path / "elsewhere"
    assert metrics_directory(config, {ENV: str(chosen)}) == chosen.resolve()


def test_a_metric_that_cannot_be_written_never_costs_the_caller(tmp_path):
    first = Metrics(tmp_path / "a")
    Metrics(tmp_path / "b")  # a second deployment in this process closes the first's files
    first.webhook("acked", 0.1)  # no exception
    first.model_call(_record())


def test_calls_without_reported_usage_count_no_tokens(tmp_path):
    metrics = Metrics(tmp_path)
    metrics.model_call(_record(Usage(None, 4)))
    found = scrape(metrics)
    assert total(found, "gen_ai_client_token_usage_count", gen_ai_token_type="input") == 0
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="output") == 4


def _record(usage: Usage | None = None) -> CallRecord:
    return CallRecord("gemini", "gemini-2.0-flash", None, 0.0, usage or Usage(5, 6), False,
                      0.2, 1.5, "ok", "stop", "text")


def test_stream_errors_are_counted_by_streams_code(tmp_path):
    telemetry = Telemetry(Metrics(tmp_path))
    telemetry.stream_error(9)
    telemetry.stream_error(9)
    telemetry.stream_error(None)
    found = scrape(telemetry.metrics)
    assert total(found, "gptbot_stream_errors_total", code="9") == 2
    assert total(found, "gptbot_stream_errors_total", code="none") == 1
