"""Stream calls outside the write budget wait for the reset a 429 names.

Reads (and, without a budget, every call) used to retry a 429 after ~0.1 s of jittered
backoff, failing again until Stream's window reset. Now they sleep until X-RateLimit-Reset
or Retry-After (at most a minute), and back off as before when the 429 names no reset.
The sleep is injected and moves a fake clock: nothing really waits.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterator

import pytest
import responses
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.core.retry_after import parse_retry_after
from gptbot.stream.api import StreamApi
from gptbot.stream.retry import MAX_RESET_WAIT_S
from gptbot.stream.write_budget import WriteBudget
from tests.support.common import API_KEY, API_SECRET, STREAM_URL
from tests.support.fakes import FakeClock, Sleeper

MESSAGE_URL = f"{STREAM_URL}/messages/m1"
# A read by POST: for GET (idempotent) the SDK's urllib3 adapter itself retries a 429 with
# Retry-After once, sleeping for real, before the error ever reaches StreamApi.
QUERY_URL = f"{STREAM_URL}/channels/messaging/general/query"
CID = ("messaging", "general")
PUT_RE = re.compile(rf"{STREAM_URL}/messages/m1(\?.*)?$")
TOO_MANY = {"code": 9, "message": "Too many requests", "StatusCode": 429}




class FreeBuckets:
    """A limits store with every token free: the budget never waits."""

    def take_token(self, bucket: str, per_minute: int, now: float, burst: int = 0) -> float:
        return 0.0

    def hold_bucket(self, bucket: str, until: float) -> None:
        pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 1000.0


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as requests_mock:
        yield requests_mock


def make_api(clock: FakeClock, budgeted: bool = False) -> tuple[StreamApi, Sleeper]:
    sleep = Sleeper(clock)
    budget = WriteBudget(FreeBuckets(), "app", 600, 6000, clock=clock, sleep=sleep)
    client = StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL)
    api = StreamApi(client, max_wait=8.0, budget=budget if budgeted else None,
                    clock=clock, sleep=sleep)
    return api, sleep


def limited(mock: responses.RequestsMock, method: str, url: object, times: int = 1,
            **headers: str) -> None:
    """`times` 429s with `headers` (underscores for dashes), then a success."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    for _ in range(times):
        mock.add(method, url, json=TOO_MANY, status=429, headers=named)
    mock.add(method, url, json={"message": {"id": "m1", "text": "hi"}, "messages": []})


def test_a_read_waits_until_the_rate_limit_reset(clock, mock):
    api, sleep = make_api(clock)
    limited(mock, responses.GET, MESSAGE_URL, X_RateLimit_Reset="1012")
    assert api.get_message("m1")["text"] == "hi"
    assert sleep.slept == [pytest.approx(12.0)] and len(mock.calls) == 2


def test_a_read_honours_retry_after(clock, mock):
    api, sleep = make_api(clock)
    limited(mock, responses.POST, QUERY_URL, Retry_After="7")
    assert api.channel_messages(CID, 10) == []
    assert sleep.slept == [pytest.approx(7.0)]


def test_the_later_of_both_headers_wins(clock, mock):
    api, sleep = make_api(clock)
    limited(mock, responses.POST, QUERY_URL, Retry_After="3", X_RateLimit_Reset="1020")
    api.channel_messages(CID, 10)
    assert sleep.slept == [pytest.approx(20.0)]


def test_a_far_reset_is_capped(clock, mock):
    api, sleep = make_api(clock)
    limited(mock, responses.GET, MESSAGE_URL, X_RateLimit_Reset="4600")
    api.get_message("m1")
    assert sleep.slept == [MAX_RESET_WAIT_S]


@pytest.mark.parametrize("headers", [{}, {"X_RateLimit_Reset": "990"}], ids=["none", "past"])
def test_without_a_usable_reset_it_backs_off_with_jitter(clock, mock, headers):
    api, sleep = make_api(clock)
    limited(mock, responses.GET, MESSAGE_URL, times=3, **headers)
    api.get_message("m1")
    assert len(sleep.slept) == 3 and all(0 <= s <= 8.0 for s in sleep.slept)


def test_each_retry_waits_for_its_own_reset(clock, mock):
    api, sleep = make_api(clock)
    mock.add(responses.POST, QUERY_URL, json=TOO_MANY, status=429,
             headers={"X-RateLimit-Reset": "1010"})
    mock.add(responses.POST, QUERY_URL, json=TOO_MANY, status=429, headers={"Retry-After": "5"})
    mock.add(responses.POST, QUERY_URL, json={"messages": []})
    api.channel_messages(CID, 10)
    assert sleep.slept == [pytest.approx(10.0), pytest.approx(5.0)]


def test_without_a_budget_writes_wait_for_the_reset_too(clock, mock):
    api, sleep = make_api(clock)
    limited(mock, responses.PUT, PUT_RE, X_RateLimit_Reset="1030")
    api.update_message("m1", {"text": "final", "generating": False}, "gpt-bot")
    assert sleep.slept == [pytest.approx(30.0)]
    assert json.loads(mock.calls[-1].request.body)["set"]["text"] == "final"


def test_with_a_budget_reads_still_wait_for_the_reset(clock, mock):
    api, sleep = make_api(clock, budgeted=True)
    limited(mock, responses.GET, MESSAGE_URL, X_RateLimit_Reset="1015")
    api.get_message("m1")
    assert sleep.slept == [pytest.approx(15.0)]


def test_attempts_still_run_out(clock, mock):
    client = StreamChat(API_KEY, API_SECRET, base_url=STREAM_URL)
    sleep = Sleeper(clock)
    api = StreamApi(client, attempts=2, clock=clock, sleep=sleep)
    mock.add(responses.GET, MESSAGE_URL, json=TOO_MANY, status=429,
             headers={"X-RateLimit-Reset": "1005"})
    with pytest.raises(StreamAPIException) as raised:
        api.get_message("m1")
    assert raised.value.status_code == 429 and sleep.slept == [pytest.approx(5.0)]


def test_retry_after_as_an_http_date():
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert parse_retry_after(in_a_minute) == pytest.approx(60.0, abs=1.5)
    assert parse_retry_after("2.5") == 2.5 and parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
