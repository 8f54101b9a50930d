"""Fakes for the memory, prompt, subcommand and stop tests: a scripted provider, a clock,
Stream's REST API under `responses`, and the final texts it received."""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from gptbot.conversation.summarize import FOLD_PROMPT
from gptbot.core.errors import ProviderError
from gptbot.core.events import Finish, StreamEvent, TextDelta
from gptbot.core.types import ChatRequest
from tests.support.common import STREAM_URL

MESSAGES = re.compile(rf"{STREAM_URL}/messages/[^/?]+(\?.*)?$")


# --- Redis: one database of this test session's own ----------------------------------------
# Every Redis test uses the database redis_url() names: chosen when first asked for, the
# highest-numbered one (never 0) that is empty, reserved with a marker key so that another
# test run on the machine picks a different one, and flushed, only it, when the session ends
# (release_redis_db, called by tests/conftest.py). Tests still use key prefixes of their own.
REDIS_SERVER = "redis://127.0.0.1:6379"
CLAIM_KEY = "gptbot-tests:claimed-by"  # value: host:pid:token of the session holding the db
_NO_DATABASE = 2**31 - 1  # in a URL when nothing could be claimed: Redis refuses to SELECT it
_claim: dict[str, Any] = {}  # "db" (int | None), "problem" (why there is none), "token"


def redis_url() -> str:
    """The URL of this session's own Redis database (claimed on first use)."""
    db = _claimed_db()
    return f"{REDIS_SERVER}/{_NO_DATABASE if db is None else db}"


def redis_client() -> Any:
    """A client on this session's database; skips the test, saying why, when there is none."""
    import redis

    db = _claimed_db()
    if db is None:
        pytest.skip(_claim["problem"])
    client = redis.Redis.from_url(f"{REDIS_SERVER}/{db}", decode_responses=True)
    try:
        _keep_claim(client)
    except redis.ConnectionError:
        pytest.skip(f"the Redis server at {REDIS_SERVER} went away: {_claim['problem']}")
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


def release_redis_db() -> None:
    """End of session: flush the database this session claimed (and nothing else)."""
    db = _claim.get("db")
    if db is None:
        return
    import redis

    _claim["db"] = None
    _claim["problem"] = "this session's Redis database was already released"
    try:
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{db}", socket_timeout=5)
        owner = client.get(CLAIM_KEY)
        if owner is None or owner.decode() == _claim["token"]:  # a test may have flushed it
            client.flushdb()
        client.close()
    except redis.RedisError:
        pass  # the server went away: nothing to release


def _claimed_db() -> int | None:
    if "problem" not in _claim:
        _claim["token"] = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        _claim["db"], _claim["problem"] = _claim_free_db(_claim["token"])
    db: int | None = _claim["db"]
    return db


def _claim_free_db(token: str) -> tuple[int | None, str]:
    import redis

    try:
        probe = redis.Redis.from_url(REDIS_SERVER, socket_connect_timeout=1, socket_timeout=5)
        probe.ping()
    except redis.RedisError as exc:
        return None, f"no Redis server reachable at {REDIS_SERVER} ({exc}): start one to run this"
    try:
        count = int(probe.config_get("databases").get("databases", 16))
    except (redis.ResponseError, ValueError):
        count = 16  # CONFIG disabled (a managed Redis): the server's default
    probe.close()
    for db in range(count - 1, 0, -1):  # 0 is everyone's default: never
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{db}", socket_timeout=5)
        try:
            if _take(client, token):
                return db, ""
        except redis.WatchError:
            continue  # another session reclaimed the same stale database first
        finally:
            client.close()
    return None, (
        f"no free Redis database at {REDIS_SERVER}: databases 1-{count - 1} all hold keys "
        "(flush one that is yours, e.g. `redis-cli -n 15 flushdb`)"
    )


def _take(client: Any, token: str) -> bool:
    """Reserve this database when it is empty, or held by a test session that has died."""
    with client.pipeline() as pipe:
        pipe.watch(CLAIM_KEY)
        owner = pipe.get(CLAIM_KEY)
        if owner is not None and _dead(owner.decode()):
            pipe.multi()  # a crashed run's leftovers (pytest-timeout ends the process)
            pipe.flushdb()
            pipe.set(CLAIM_KEY, token)
            pipe.execute()
            return True
    if owner is not None or client.dbsize() != 0 or not client.set(CLAIM_KEY, token, nx=True):
        return False
    if client.dbsize() == 1:
        return True
    # Someone else began writing here between the two looks: leave it to them.
    if client.get(CLAIM_KEY) == token.encode():
        client.delete(CLAIM_KEY)
    return False


def _dead(owner: str) -> bool:
    """True when `owner` (host:pid:token) is a test session on this host that has exited."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _keep_claim(client: Any) -> None:
    """Put the marker back if a test flushed the database (two tests flush it when done)."""
    if client.set(CLAIM_KEY, _claim["token"], nx=True):
        return
    if client.get(CLAIM_KEY) != _claim["token"]:
        pytest.fail(f"another test run took this session's Redis database ({redis_url()})")


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


class Scripted:
    """A provider that plays back events, or fails before its first one."""

    def __init__(self, name: str, events: list[StreamEvent], fail: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail = fail

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        if self.fail:
            raise ProviderError("overloaded")
        yield from self.events


class Sleeper:
    """A sleep that records each wait and moves a fake clock on by it instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += seconds
