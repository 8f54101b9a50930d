"""`ChannelWatcher` against the Stream emulator: a user's Stop reaches the bot over its own
WebSocket, also after the emulator drops the connection, and also under gevent."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
import requests

from gptbot.emulator import EmulatorState, RunningServer, start_server
from gptbot.emulator.playground import create_dev_app
from gptbot.stream.watcher import ChannelWatcher, StopSignal
from tests.support.common import API_KEY, API_SECRET
from tests.support.loop import emulator_state, wait_for

CID = "messaging:general"


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorState, RunningServer]]:
    state = emulator_state()
    with start_server(create_dev_app(state)) as server:
        yield state, server


def press_stop(server: RunningServer) -> None:
    """The playground's Stop button: `ai_indicator.stop` sent to the channel by a user."""
    body = {"channel_type": "messaging", "channel_id": "general", "user": {"id": "sam"}}
    requests.post(f"{server.url}/playground/api/stop", json=body, timeout=5).raise_for_status()


def test_the_bot_gets_stop_over_its_websocket_and_after_a_drop(emulator):
    state, server = emulator
    stops: list[StopSignal] = []
    watcher = ChannelWatcher(server.url, API_KEY, API_SECRET, "gpt-bot", stops.append,
                             retry_interval=lambda failures: 0.01)
    with watcher, watcher.watching(CID):
        wait_for(lambda: watcher.is_watching(CID), 5, "the watch")
        press_stop(server)
        wait_for(lambda: len(stops) == 1, 5, "the first stop")
        state.connections.drop_all("gpt-bot")
        wait_for(lambda: state.connections.opened == 2 and watcher.is_watching(CID), 5,
                 "the reconnect and re-watch")
        wait_for(lambda: state.connections.watchers(CID), 5, "the emulator's watch")
        press_stop(server)
        wait_for(lambda: len(stops) == 2, 5, "the second stop")
    assert [(s.cid, s.user_id) for s in stops] == [(CID, "sam"), (CID, "sam")]
    assert state.requests["Connect"] == 2


GEVENT_SCRIPT = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import time
    import requests
    from gptbot.emulator import start_server
    from gptbot.emulator.playground import create_dev_app
    from gptbot.stream.watcher import ChannelWatcher
    from tests.support.loop import emulator_state, wait_for
    from tests.support.common import API_KEY, API_SECRET

    state = emulator_state()
    with start_server(create_dev_app(state)) as server:
        stops = []
        with ChannelWatcher(server.url, API_KEY, API_SECRET, "gpt-bot", stops.append) as w:
            with w.watching("messaging:general"):
                wait_for(lambda: w.is_watching("messaging:general"), 10, "the watch")
                body = {"channel_type": "messaging", "channel_id": "general", "user": "sam"}
                requests.post(server.url + "/playground/api/stop", json=body, timeout=5)
                wait_for(lambda: stops, 10, "the stop")
    print("stop received under gevent:", stops[0].cid)
""")


def test_the_watcher_works_under_gevent_monkey_patching():
    pytest.importorskip("gevent")
    done = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stop received under gevent: messaging:general" in done.stdout
