"""The OpenAI-compatible provider over HTTP: `responses` for status handling, a loopback
server for real chunked streaming and the idle timeout."""

from __future__ import annotations

import json
import time

import pytest
import requests
import responses

from gptbot.core.errors import ProviderAuthError, ProviderError, ProviderTimeout
from gptbot.core.events import Finish, TextDelta, Usage
from gptbot.core.retry_after import parse_retry_after
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.providers.openai import OpenAIProvider
from tests.support.common import LLM_URL, make_config, sse_chat_stream
from tests.support.provider_streams import serve_quick as serve_llm
from tests.support.servers import FakeLLM

REQUEST = ChatRequest("gpt-test", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")))
URL = f"{LLM_URL}/chat/completions"


def provider(tmp_path, **overrides) -> OpenAIProvider:
    return OpenAIProvider.from_config(make_config(tmp_path, **overrides))


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@responses.activate
def test_streams_text_finish_and_usage(tmp_path):
    responses.add(
        responses.POST,
        URL,
        body=sse_chat_stream(["Hel", "lo", " wörld"]),
        content_type="text/event-stream",
    )
    events = list(provider(tmp_path).stream(REQUEST))
    assert text_of(events) == "Hello wörld"
    assert Finish("stop") in events
    assert any(isinstance(e, Usage) and e.input_tokens == 9 for e in events)
    sent = json.loads(responses.calls[0].request.body)
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"][1] == {"role": "user", "content": "hi"}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sk-test"


@responses.activate
def test_retries_429_honouring_retry_after_then_streams(tmp_path):
    responses.add(
        responses.POST,
        URL,
        status=429,
        headers={"Retry-After": "0.2"},
        json={"error": {"message": "Rate limit reached"}},
    )
    responses.add(responses.POST, URL, status=503, json={"error": "overloaded"})
    responses.add(responses.POST, URL, body=sse_chat_stream(["ok"]))
    started = time.monotonic()
    assert text_of(provider(tmp_path).stream(REQUEST)) == "ok"
    assert time.monotonic() - started >= 0.2
    assert len(responses.calls) == 3


@responses.activate
def test_gives_up_after_the_configured_attempts(tmp_path):
    responses.add(responses.POST, URL, status=500, json={"error": {"message": "boom"}})
    with pytest.raises(ProviderError, match=r"HTTP 500.*boom"):
        list(provider(tmp_path, llm_max_retries=2).stream(REQUEST))
    assert len(responses.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 404])
@responses.activate
def test_client_errors_are_final_and_clear(tmp_path, status):
    responses.add(
        responses.POST,
        URL,
        status=status,
        json={"error": {"message": "Incorrect API key provided: sk-te***"}},
    )
    with pytest.raises(ProviderAuthError, match=rf"HTTP {status}.*Incorrect API key"):
        list(provider(tmp_path).stream(REQUEST))
    assert len(responses.calls) == 1


@responses.activate
def test_connection_errors_are_retried(tmp_path):
    responses.add(responses.POST, URL, body=requests.ConnectionError("refused"))
    responses.add(responses.POST, URL, body=sse_chat_stream(["back"]))
    assert text_of(provider(tmp_path).stream(REQUEST)) == "back"


def test_no_key_sends_no_authorization(tmp_path):
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, URL, body=sse_chat_stream(["x"]))
        list(provider(tmp_path, openai_api_key=None).stream(REQUEST))
        assert "Authorization" not in mock.calls[0].request.headers


def test_real_chunked_stream_in_random_pieces(tmp_path):
    words = [f"w{i} " for i in range(300)] + ["ünï", "cödé ✓"]
    with serve_llm(FakeLLM(sse_chat_stream(words), piece_sizes=(1, 9))) as server:
        events = list(provider(tmp_path, openai_base_url=server.url + "/v1").stream(REQUEST))
    assert text_of(events) == "".join(words)


def test_idle_timeout_ends_a_silent_stream(tmp_path):
    fake = FakeLLM(sse_chat_stream(["a", "b"] * 20), stall_after=60)
    with serve_llm(fake) as server:
        llm = provider(tmp_path, openai_base_url=server.url + "/v1", llm_idle_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ProviderTimeout):
            list(llm.stream(REQUEST))
    assert time.monotonic() - started < 3


def test_slow_but_steady_streams_are_not_cut(tmp_path):
    fake = FakeLLM(sse_chat_stream(["x"] * 30), piece_sizes=(40, 60), delay=0.02)
    with serve_llm(fake) as server:
        llm = provider(tmp_path, openai_base_url=server.url + "/v1", llm_idle_timeout=0.3)
        assert text_of(llm.stream(REQUEST)) == "x" * 30  # total > idle timeout, gaps < it


def test_retry_after_forms():
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
