"""The proof: after real commands over HTTP, /metrics adds up to what happened."""

from __future__ import annotations

import requests

from tests.support.common import command_payload, encode, signed_headers
from tests.support.loop import wait_for
from tests.telemetry.support import USAGE_IN, USAGE_OUT, bot, samples, total


def test_after_an_end_to_end_run_the_metrics_add_up(tmp_path):
    with bot(tmp_path) as b:
        b.ask("/gpt What is the answer?")
        b.ask("/gpt And again?", deliveries=2)  # the second delivery is a duplicate
        b.ask("/gpt")  # help: acknowledged, no job
        bad = requests.post(b.url + "/webhooks/stream/gpt", data=encode(command_payload()),
                            headers={**signed_headers(b"other body"), "X-Webhook-Id": "x"})
        assert bad.status_code == 401
        wait_for(lambda: len(b.finished()) == 2, 15, "both answers")
        wait_for(lambda: _scrape(b.url)[1] >= 2, 5, "both jobs' calls in the metrics")
        body, calls = _scrape(b.url)

    found = samples(body)
    assert calls == len(b.llm.requests) == 2
    # The token histogram's sums are exactly the usage the provider reported.
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="input") \
        == USAGE_IN * calls
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="output") \
        == USAGE_OUT * calls
    assert total(found, "gen_ai_client_token_usage_count", gen_ai_provider_name="openai",
                 gen_ai_request_model="gpt-4o-mini", gen_ai_operation_name="chat") == 2 * calls
    # Every request sent is counted once, under its outcome.
    sent = len(b.state.hook_calls) + 1
    outcomes = {o: total(found, "gptbot_webhook_requests_total", outcome=o)
                for o in ("acked", "duplicate", "bad_signature")}
    assert outcomes == {"acked": 3, "duplicate": 1, "bad_signature": 1}
    assert total(found, "gptbot_webhook_requests_total") == sent == 5
    assert total(found, "gptbot_webhook_ack_seconds_count") == sent
    assert total(found, "gen_ai_client_operation_duration_seconds_count") == calls
    assert total(found, "gen_ai_client_operation_time_to_first_chunk_seconds_count") == calls
    assert total(found, "gptbot_cost_usd_total") > 0  # gpt-4o-mini is priced
    # No series names a person or a channel.
    assert "alice" not in body and "general" not in body


def _scrape(url: str) -> tuple[str, int]:
    response = requests.get(url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    calls = total(samples(response.text), "gen_ai_client_operation_duration_seconds_count")
    return response.text, int(calls)
