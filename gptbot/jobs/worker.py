"""The worker: a dispatcher runs up to GPTBOT_CONCURRENCY jobs at once (dispatcher.py), a
sweeper re-queues dead workers' jobs.

It runs as `gptbot worker` (also what `gptbot serve` starts as its child process), or inside
a web process (`GPTBOT_EMBEDDED_WORKER=thread`, and the tests); SQLite dequeues are exclusive
and Redis pops are atomic, so every job still runs once. Stopping is graceful: no new job is taken,
running answers may finish for up to the grace period, and whatever still runs then is
handed back — re-queued in the store and in the queue — for another worker to take.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from gptbot.config import Config
from gptbot.jobs.dispatcher import Dispatcher
from gptbot.jobs.running import RunningJobs, hand_back
from gptbot.jobs.slots import Slots
from gptbot.jobs.sweeper import Sweeper
from gptbot.store import JobStore
from gptbot.telemetry import Telemetry

if TYPE_CHECKING:
    from gptbot.jobs.queue import JobQueue

log = logging.getLogger(__name__)
GRACE_S = 25.0
AFTER_HANDING_BACK_S = 2.0  # how long cancelled jobs get to notice before we return


class EmbeddedWorker:
    def __init__(
        self,
        queue: JobQueue,
        store: JobStore,
        concurrency: int,
        lease_s: float,
        sweep_every: float | None = None,
        housekeeping: Callable[[], None] | None = None,
        running: RunningJobs | None = None,
        telemetry: Telemetry | None = None,
        grace_s: float = GRACE_S,
        on_full: Callable[[], None] | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.queue = queue
        self.store = store
        self.running = running  # the answerer's running attempts; None: no handing back
        self.grace_s = grace_s
        self.hurry = threading.Event()  # set: stop waiting for running answers
        self.sweeper = Sweeper(store, queue.enqueue, lease_s, sweep_every, housekeeping,
                               telemetry)
        self.dispatcher = Dispatcher(queue.huey, concurrency, on_full, slots)

    def start(self) -> None:
        self.dispatcher.start()
        self.sweeper.start()  # its first sweep re-runs what a dead predecessor left
        log.info("worker started: up to %d answers at once (%s)", self.dispatcher.limit,
                 "greenlets" if _patched() else "threads")

    def sweep(self) -> int:
        return self.sweeper.sweep()

    def stop(self) -> None:
        """Take no new job; let running answers finish up to the grace period; hand the
        rest back to the queue; return."""
        self.sweeper.stop()
        self.dispatcher.stop_taking()
        if self.running is None:
            self.dispatcher.join(self.grace_s)
            return
        if not self.running.wait_idle(self.grace_s, self.hurry):
            self._hand_back(self.running)
        self.dispatcher.join(AFTER_HANDING_BACK_S)

    def _hand_back(self, running: RunningJobs) -> None:
        try:
            handed = hand_back(running, self.store, self.queue.enqueue)
        except Exception:  # the leases expire: the sweeper elsewhere re-runs them
            log.exception("could not hand the running jobs back")
            return
        log.warning("handed %d running job(s) back to the queue: %s", len(handed),
                    ", ".join(handed) or "-")


def worker_for(
    config: Config,
    queue: JobQueue,
    store: JobStore,
    running: RunningJobs,
    housekeeping: Callable[[], None] | None = None,
    telemetry: Telemetry | None = None,
    on_full: Callable[[], None] | None = None,
    slots: Slots | None = None,
) -> EmbeddedWorker:
    """The worker as `gptbot serve` and `gptbot worker` run it, from the settings;
    `on_full` is told while it is at GPTBOT_CONCURRENCY (waiting.py); `slots` are shared
    with the answers' turn order (slots.py)."""
    return EmbeddedWorker(queue, store, config.concurrency, config.job_lease_s,
                          housekeeping=housekeeping, running=running,
                          grace_s=config.shutdown_grace_s, telemetry=telemetry, on_full=on_full,
                          slots=slots)


def _patched() -> bool:
    """Whether gevent has patched this process (only `gptbot worker` does, first thing)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("threading"))
