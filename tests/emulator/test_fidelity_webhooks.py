"""Webhook retries as Stream documents them: the same X-Webhook-Id on every attempt and
X-Webhook-Attempt counting up (docs webhooks_overview); event hooks get 3 attempts on
408/429/5xx or a timeout and 2 on a network error (push_webhook page); a custom command
gets the same rules inside its 1 s (custom_commands_webhook, "Performance considerations").
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request

from gptbot.emulator import EmulatorState, RunningServer, send_user_message, start_server
from gptbot.emulator.event_hooks import deliver_event

API_KEY = "hooks-key"
API_SECRET = "hooks-secret-long-enough-for-hs256-0123456789"
WAIT_S = 10.0


class ScriptedHook:
    """A webhook answering the scripted statuses in turn (then 200); "hang" waits until
    released, which the client sees as a timeout."""

    def __init__(self, *statuses: int | str) -> None:
        self.script = list(statuses)
        self.calls: queue.Queue[dict[str, str]] = queue.Queue()
        self.release = threading.Event()

    def app(self) -> Flask:
        app = Flask("scripted-hook")
        app.add_url_rule("/hook/<name>", "hook", self._answer, methods=["POST"])
        return app

    def _answer(self, name: str) -> Response:
        self.calls.put(dict(request.headers))
        step = self.script.pop(0) if self.script else 200
        if step == "hang":
            self.release.wait(WAIT_S)
            step = 200
        body = '{"message": {"text": "rewritten"}}'
        return Response(body, status=int(step), mimetype="application/json")

    def attempts(self, count: int) -> list[dict[str, str]]:
        return [self.calls.get(timeout=WAIT_S) for _ in range(count)]


@pytest.fixture
def state() -> EmulatorState:
    state = EmulatorState(API_KEY, API_SECRET)
    state.webhook_backoff_s = 0.01
    state.create_command({"name": "gpt", "description": "Ask"})
    state.update_channel_type("messaging", {"commands": ["gpt"]})
    return state


@pytest.fixture
def hook_server() -> Iterator[tuple[ScriptedHook, RunningServer]]:
    hook = ScriptedHook()
    with start_server(hook.app()) as server:
        yield hook, server
        hook.release.set()


def _ask(state: EmulatorState, server_url: str, **kw: Any) -> dict[str, Any]:
    state.update_app({"custom_action_handler_url": f"{server_url}/hook/{{type}}"})
    return send_user_message(state, "messaging", "general", "alice", "/gpt hi", **kw)


def _ids_and_attempts(calls: list[dict[str, str]]) -> tuple[set[str], list[str]]:
    return {c["X-Webhook-Id"] for c in calls}, [c["X-Webhook-Attempt"] for c in calls]


def _free_url() -> str:
    """A loopback URL nothing listens on: connecting to it is a network error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- custom commands -----------------------------------------------------------------------


def test_a_command_handlers_5xx_is_retried_under_the_same_id(state, hook_server) -> None:
    hook, server = hook_server
    hook.script = [503]
    message = _ask(state, server.url)
    ids, attempts = _ids_and_attempts(hook.attempts(2))
    assert len(ids) == 1 and attempts == ["1", "2"]
    assert message["text"] == "rewritten"  # the retry's answer is the one used
    assert [(c["attempt"], c["status"]) for c in state.hook_calls] == [(1, 503), (2, 200)]


def test_a_failing_command_handler_gets_three_attempts_then_the_text_stays(
    state, hook_server
) -> None:
    hook, server = hook_server
    hook.script = [500, 502, 504, 200]
    message = _ask(state, server.url)
    assert _ids_and_attempts(hook.attempts(3))[1] == ["1", "2", "3"]
    assert message["text"] == "/gpt hi"  # saved as typed
    assert [c["outcome"] for c in state.hook_calls] == ["error"] * 3


def test_a_command_handlers_4xx_is_not_retried(state, hook_server) -> None:
    hook, server = hook_server
    hook.script = [400]
    message = _ask(state, server.url)
    assert message["text"] == "/gpt hi" and len(state.hook_calls) == 1
    assert hook.calls.qsize() == 1


def test_a_command_timeout_spends_the_budget_and_is_not_retried(state, hook_server) -> None:
    hook, server = hook_server
    hook.script = ["hang"]
    message = _ask(state, server.url, timeout=0.3)
    assert message["text"] == "/gpt hi"
    assert [(c["attempt"], c["outcome"]) for c in state.hook_calls] == [(1, "timeout")]


def test_an_unreachable_command_handler_gets_two_attempts(state) -> None:
    message = _ask(state, _free_url())
    assert message["text"] == "/gpt hi"
    assert [(c["attempt"], c["outcome"]) for c in state.hook_calls] == [
        (1, "unreachable"), (2, "unreachable")]


# -- app event hooks -----------------------------------------------------------------------


def _hook_on(state: EmulatorState, url: str) -> dict[str, Any]:
    state.update_app({"event_hooks": [{"enabled": True, "hook_type": "webhook",
                                       "webhook_url": url, "event_types": ["message.new"]}]})
    state.ensure_channel("messaging", "general", "alice")
    return state.send_event("messaging", "general", {"type": "message.new", "user_id": "alice"})


def _hook_calls(state: EmulatorState, subscription: queue.Queue, count: int) -> list[dict]:
    calls: list[dict] = []
    while len(calls) < count:
        change = subscription.get(timeout=WAIT_S)
        if change["kind"] == "event_hook_call":
            calls.append(change)
    return calls


def test_an_event_hooks_429_and_5xx_are_retried_up_to_three_attempts(
    state, hook_server
) -> None:
    hook, server = hook_server
    hook.script = [429, 500, 503]
    subscription = state.subscribe()
    threads = deliver_event(state, _hook_on(state, f"{server.url}/hook/events"))
    calls = _hook_calls(state, subscription, 3)
    for thread in threads:
        thread.join(WAIT_S)
    ids, attempts = _ids_and_attempts(hook.attempts(3))
    assert len(ids) == 1 and attempts == ["1", "2", "3"]
    assert [c["status"] for c in calls] == [429, 500, 503]
    assert hook.calls.empty()  # no fourth attempt


def test_an_event_hook_stops_retrying_once_it_answers(state, hook_server) -> None:
    hook, server = hook_server
    hook.script = [500, 204]
    subscription = state.subscribe()
    threads = deliver_event(state, _hook_on(state, f"{server.url}/hook/events"))
    calls = _hook_calls(state, subscription, 2)
    for thread in threads:
        thread.join(WAIT_S)
    assert [(c["attempt"], c["status"]) for c in calls] == [(1, 500), (2, 204)]
    assert hook.calls.qsize() == 2


def test_an_unreachable_event_hook_gets_two_attempts(state) -> None:
    subscription = state.subscribe()
    threads = deliver_event(state, _hook_on(state, _free_url()))
    calls = _hook_calls(state, subscription, 2)
    for thread in threads:
        thread.join(WAIT_S)
    assert [(c["attempt"], c["outcome"]) for c in calls] == [
        (1, "unreachable"), (2, "unreachable")]
    assert len({c["webhook_id"] for c in calls}) == 1
    assert not [c for c in state.changes if c["kind"] == "event_hook_call" and c["attempt"] > 2]
