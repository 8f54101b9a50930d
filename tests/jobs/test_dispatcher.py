"""The dispatcher: at most `limit` jobs at once in a process; the rest stay in the queue."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from gptbot.cli.greenlets import wants_greenlets
from gptbot.jobs.dispatcher import Dispatcher
from gptbot.jobs.queue import JobQueue, open_huey
from gptbot.jobs.slots import Slots
from tests.support.loop import wait_for


def test_takes_jobs_only_while_it_has_room_and_leaves_the_rest_queued(tmp_path):
    release, started, full = threading.Event(), [], threading.Event()

    def run(payload):
        started.append(payload["n"])
        release.wait(10)

    queue = JobQueue(open_huey(f"sqlite:///{tmp_path / 'jobs.db'}"), run)
    for n in range(10):
        queue.enqueue({"n": n})
    dispatcher = Dispatcher(queue.huey, limit=3, on_full=full.set)
    dispatcher.start()
    try:
        wait_for(lambda: len(started) == 3 and full.is_set(), what="three jobs, then full")
        assert (dispatcher.running(), queue.pending()) == (3, 7)  # another process may take them
        release.set()
        wait_for(lambda: len(started) == 10 and dispatcher.running() == 0, what="the rest")
    finally:
        release.set()
        dispatcher.stop_taking()
    assert sorted(started) == list(range(10)) and queue.pending() == 0


def test_stops_taking_but_lets_taken_jobs_finish(tmp_path):
    release, started = threading.Event(), []
    queue = JobQueue(open_huey(f"sqlite:///{tmp_path / 'jobs.db'}"),
                     lambda payload: (started.append(payload), release.wait(10)))
    for n in range(4):
        queue.enqueue({"n": n})
    dispatcher = Dispatcher(queue.huey, limit=2)
    dispatcher.start()
    wait_for(lambda: len(started) == 2, what="two jobs under way")
    dispatcher.stop_taking()
    assert not dispatcher.join(0.05)  # still running: join says so
    release.set()
    assert dispatcher.join(5)
    assert len(started) == 2 and queue.pending() == 2


def test_only_the_worker_command_asks_for_greenlets(monkeypatch):
    monkeypatch.delenv("GPTBOT_GEVENT", raising=False)
    assert wants_greenlets(["worker"]) and wants_greenlets(["worker", "--supervised"])
    assert not wants_greenlets(["serve", "--port", "8000"]) and not wants_greenlets([])
    monkeypatch.setenv("GPTBOT_GEVENT", "false")
    assert not wants_greenlets(["worker"])


TOOLS_UNDER_GEVENT = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import gevent, time
    from gptbot.core.types import ToolCall
    from gptbot.llm.generation import _run_tools
    from gptbot.llm.tools import Toolbox, ToolContext, make_tool

    def crunch() -> str:
        \"\"\"Busy for half a second, as CPU-bound code is: it never yields to gevent.\"\"\"
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:
            pass
        return "crunched"

    def hang() -> str:
        \"\"\"Busy for longer than the tools' timeout.\"\"\"
        end = time.perf_counter() + 2
        while time.perf_counter() < end:
            pass
        return "late"

    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(1000)])
    box = Toolbox([make_tool(crunch), make_tool(hang)])
    calls = [ToolCall(index=0, id="1", name="crunch", arguments="{}"),
             ToolCall(index=1, id="2", name="hang", arguments="{}")]
    print(_run_tools(box, calls, ToolContext(), 1.0), len(ticks))
""")


def test_under_gevent_tools_run_in_real_threads_and_the_hub_keeps_going():
    done = subprocess.run([sys.executable, "-c", TOOLS_UNDER_GEVENT], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    results, ticks = done.stdout.rsplit(" ", 1)
    assert results == "['crunched', 'Error: the tool did not finish within 1 s.']"
    assert int(ticks) >= 40  # ~100 in the second the tools took: other answers went on


def test_a_job_waiting_for_its_turn_gives_its_slot_to_another_conversation(tmp_path):
    """limit 3: a long answer runs, two questions asked after it in the same channel wait
    for their turn, and a question in another channel still starts at once (without
    stepping aside, the three would hold every slot)."""
    slots = Slots(3)
    release, turn, started = threading.Event(), threading.Event(), []

    def run(payload):
        started.append(payload["n"])
        if payload["n"] == "long":
            release.wait(10)
        elif payload["n"].startswith("next"):
            with slots.stepped_aside():  # what TurnOrder.wait does
                turn.wait(10)

    queue = JobQueue(open_huey(f"sqlite:///{tmp_path / 'jobs.db'}"), run)
    for n in ("long", "next-1", "next-2", "other-channel"):
        queue.enqueue({"n": n})
    dispatcher = Dispatcher(queue.huey, limit=3, slots=slots)
    dispatcher.start()
    try:
        # With the long answer and both waiters still running, the 4th job of a limit of 3
        # has run too.
        wait_for(lambda: len(started) == 4, what="the other channel's question")
        assert dispatcher.running() == 3 and "other-channel" in started
        turn.set()
        release.set()
        wait_for(lambda: dispatcher.running() == 0, what="every job done")
    finally:
        release.set()
        turn.set()
        dispatcher.stop_taking()
    assert all(slots.take(timeout=0) for _ in range(3))  # every slot given back, none lost
    assert not slots.take(timeout=0)


def test_outside_the_dispatcher_a_job_steps_nowhere():
    slots = Slots(1)
    with slots.stepped_aside():
        assert slots.take(timeout=0)  # nothing was released: its one slot is still free
    slots.give()
    assert slots.take(timeout=0) and not slots.take(timeout=0)
