"""Fixtures shared across the suite. Helpers that are plain functions live in tests/support/."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import responses

from gptbot.store import Stores
from gptbot.store.redis import redis_stores
from gptbot.store.sqlite import open_sqlite
from tests.support.fakes import (
    mock_stream,
    redis_client,
    release_redis_db,
    unique_redis_prefix,
)
from tests.telemetry.leaks import SecretSpy, suite_secrets

# --- CI=true: a skip is a failure --------------------------------------------------------------
# Outside CI a test may skip with a reason (no Redis, no Chromium on a laptop). In CI that
# would hide a broken install behind a green run, so there every skip fails, reason and all.


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


class SkipsFailInCI:
    """Registered for CI runs only: skipped tests become failures, and a module skipped
    while being collected (its tests never exist) fails the run, listed at the end."""

    def __init__(self) -> None:
        self.collection_skips: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> object:
        report = yield
        if report.skipped and not hasattr(report, "wasxfail"):  # an xfail stays an xfail
            report.outcome = "failed"
            report.longrepr = f"skipped under CI=true, which fails the run: {_reason(report)}"
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:
            self.collection_skips.append(f"{report.nodeid}: {_reason(report)}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.collection_skips and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.collection_skips:
            terminalreporter.section("skipped at collection under CI=true: a failure", red=True)
            for line in self.collection_skips:
                terminalreporter.line(f"FAILED (skipped) {line}", red=True)


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")


def pytest_configure(config: pytest.Config) -> None:
    if in_ci():
        config.pluginmanager.register(SkipsFailInCI(), "gptbot-skips-fail-in-ci")


def pytest_sessionfinish(session: pytest.Session) -> None:
    release_redis_db()  # flush this session's Redis database, and only it


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


@pytest.fixture(autouse=True)
def no_secret_in_any_log_line() -> Iterator[None]:
    """Every log line any test makes is checked: the Stream secret, provider keys and the
    server token never appear, whatever the code path."""
    spy = SecretSpy(suite_secrets())
    logging.getLogger().addHandler(spy)
    yield
    logging.getLogger().removeHandler(spy)
    assert spy.hits == [], spy.hits[:3]
