"""Fixtures shared across the suite. Helpers that are plain functions live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from gptbot.store import Stores
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from tests.support.fakes import mock_stream, redis_client, unique_redis_prefix


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own, deleted afterwards."""
    yield from unique_redis_prefix()


@pytest.fixture(params=["sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path) -> Iterator[Stores]:
    """Every store contract, on each backend in turn: one suite, two implementations."""
    if request.param == "sqlite":
        backend = open_sqlite(tmp_path / "s.db")
    else:
        backend = redis_stores(redis_client(), prefix=request.getfixturevalue("redis_prefix"))
    yield backend
    backend.close()


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Stream's REST API under `responses` (see tests/support/fakes.py for what it answers)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock_stream(mock)
