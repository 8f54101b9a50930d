"""Fakes for the memory, prompt, subcommand and stop tests: a scripted provider, a clock,
Stream's REST API under `responses`, and the final texts it received."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from gptbot.conversation.summarize import FOLD_PROMPT
from gptbot.core.events import Finish, StreamEvent, TextDelta
from gptbot.core.types import ChatRequest
from tests.support.common import STREAM_URL

MESSAGES = re.compile(rf"{STREAM_URL}/messages/[^/?]+(\?.*)?$")
REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_client() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis server reachable at {REDIS_URL}: start one to run this backend")
    return client


def unique_redis_prefix() -> Iterator[str]:
    """A key prefix of its own for one test; its keys are deleted afterwards."""
    prefix = f"gptbot-test-{uuid.uuid4().hex}:"
    yield prefix
    client = redis_client()
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeProvider:
    """Answers "answer N" (N counts questions) and "SUMMARY N" to fold requests, in words."""

    name = "fake"

    def __init__(self, reply: Callable[[ChatRequest], str] | None = None) -> None:
        self.requests: list[ChatRequest] = []
        self.reply = reply or self._numbered

    def _numbered(self, request: ChatRequest) -> str:
        kind = "SUMMARY" if is_fold(request) else "answer"
        return f"{kind} {sum(1 for r in self.requests if is_fold(r) == is_fold(request))}"

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        for word in self.reply(request).split(" "):
            yield TextDelta(word + " ")
        yield Finish("stop")

    @property
    def questions(self) -> list[ChatRequest]:
        return [r for r in self.requests if not is_fold(r)]

    @property
    def folds(self) -> list[ChatRequest]:
        return [r for r in self.requests if is_fold(r)]


def is_fold(request: ChatRequest) -> bool:
    return request.messages[0].content.startswith(FOLD_PROMPT[:40])


def dialogue(request: ChatRequest) -> list[tuple[str, str]]:
    """The non-system messages as (role, content) pairs."""
    return [(m.role, m.content.strip()) for m in request.messages if m.role != "system"]


def mock_stream(mock: responses.RequestsMock) -> responses.RequestsMock:
    mock.add(
        responses.POST,
        re.compile(rf"{STREAM_URL}/channels/.*/message"),
        json={"message": {}},
        status=201,
    )
    mock.add(responses.POST, re.compile(rf"{STREAM_URL}/channels/.*/event"), json={})
    mock.add(responses.PUT, MESSAGES, json={"message": {}})
    mock.add(responses.PATCH, re.compile(rf"{STREAM_URL}/messages/.*/ephemeral"), json={})
    return mock


def final_texts(mock: responses.RequestsMock) -> list[str]:
    """The persisted final text of every reply part, in order."""
    bodies = [json.loads(c.request.body) for c in mock.calls if c.request.method == "PUT"]
    return [b["set"]["text"] for b in bodies if not b["set"]["generating"]]
