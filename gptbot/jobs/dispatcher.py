"""Takes jobs from huey only while this process has room, and runs each in a thread of its own.

huey's own consumer runs one OS thread per job slot, so the answers a process streams at
once were its thread count (and a thousand threads polling the queue starved the web
threads of the GIL). Here one loop dequeues, only while fewer than `limit` jobs run, and
starts a thread per job: under gevent (the `gptbot worker` process patches itself first
thing) that thread is a greenlet, so `limit` can be in the hundreds or thousands; in an
unpatched process (the tests, `GPTBOT_EMBEDDED_WORKER=thread`) it is a real thread.

At the limit nothing is dequeued: the jobs stay in the durable queue, where another process
or machine takes them. huey's own `dequeue` and `execute` run each job, so its JSON
messages, and everything the job does for itself (lease, heartbeat, recorded end), stay as
they are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from huey.api import Huey

from gptbot.jobs.slots import Slots

log = logging.getLogger(__name__)
IDLE_FIRST_S, IDLE_MAX_S, IDLE_GROWTH = 0.02, 0.25, 1.2  # an idle SQLite queue: ≤ 0.25 s
FULL_CHECK_S = 0.25  # at the limit: how often `on_full` is told, while no slot frees


class Dispatcher:
    def __init__(
        self,
        huey: Huey,
        limit: int,
        on_full: Callable[[], None] | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.huey = huey
        self.limit = limit
        self.on_full = on_full  # called while at the limit (e.g. to say "waiting")
        self.stopping = threading.Event()
        self._slots = slots or Slots(limit)  # shared with the turn order (slots.py)
        self._runs: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._idle = IDLE_FIRST_S
        self._loop_thread = threading.Thread(target=self._loop, name="gptbot-dispatcher",
                                             daemon=True)

    def start(self) -> None:
        self._loop_thread.start()

    def running(self) -> int:
        with self._lock:
            return len(self._runs)

    def stop_taking(self, timeout: float = 5.0) -> None:
        """Dequeue nothing more; jobs already taken go on."""
        self.stopping.set()
        if self._loop_thread.is_alive():
            self._loop_thread.join(timeout)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` for the jobs taken to end; True when none runs any more."""
        deadline = time.monotonic() + timeout
        for run in self._snapshot():
            run.join(max(0.0, deadline - time.monotonic()))
        return self.running() == 0

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self._slots.take(timeout=FULL_CHECK_S):
                self._tell_full()
                continue
            task = self._take()
            if task is None:
                self._slots.give()
                self._wait_idle()
                continue
            self._idle = IDLE_FIRST_S
            self._start(task)

    def _take(self) -> Any:
        if self.stopping.is_set():
            return None
        try:
            return self.huey.dequeue()
        except Exception:  # a refused message (not JSON), the store briefly away: go on
            log.exception("could not take a job from the queue")
            return None

    def _wait_idle(self) -> None:
        # A blocking storage (Redis) has already waited inside dequeue.
        if not self.huey.storage.blocking:
            self.stopping.wait(self._idle)
            self._idle = min(self._idle * IDLE_GROWTH, IDLE_MAX_S)

    def _start(self, task: Any) -> None:
        run = threading.Thread(target=self._run, args=(task,), daemon=True,
                               name=f"gptbot-job-{task.id[:8]}")
        with self._lock:
            self._runs.add(run)
        run.start()

    def _run(self, task: Any) -> None:
        try:
            with self._slots.held():
                self.huey.execute(task)
        except Exception:  # the answer job records its own end; this is huey's own trouble
            log.exception("unhandled error running job %s", task.id)
        finally:
            with self._lock:
                self._runs.discard(threading.current_thread())
            self._slots.give()

    def _tell_full(self) -> None:
        if self.on_full is None:
            return
        try:
            self.on_full()
        except Exception:
            log.exception("could not report the waiting jobs")

    def _snapshot(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._runs)
