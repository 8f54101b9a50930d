"""The worker: huey's consumer threads run the jobs, a sweeper re-queues dead workers' jobs.

It runs embedded in each `gptbot serve` process (SQLite dequeues are exclusive, so every job
still runs once) or alone as `gptbot worker`. Stopping is graceful: no new job is taken,
running answers may finish for up to the grace period, and whatever still runs then is
handed back — re-queued in the store and in the queue — for another worker to take.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from huey.consumer import Consumer

from gptbot.config import Config
from gptbot.jobs.running import RunningJobs, hand_back
from gptbot.jobs.sweeper import Sweeper
from gptbot.store import JobStore
from gptbot.telemetry import Telemetry

if TYPE_CHECKING:
    from gptbot.jobs.queue import JobQueue

log = logging.getLogger(__name__)
GRACE_S = 25.0
AFTER_HANDING_BACK_S = 2.0  # how long cancelled threads get to notice before we return


class _QuietConsumer(Consumer):
    """huey's consumer without its signal handlers: in gunicorn those belong to gunicorn."""

    def _set_signal_handlers(self) -> None:
        pass


class EmbeddedWorker:
    def __init__(
        self,
        queue: JobQueue,
        store: JobStore,
        workers: int,
        lease_s: float,
        sweep_every: float | None = None,
        housekeeping: Callable[[], None] | None = None,
        running: RunningJobs | None = None,
        telemetry: Telemetry | None = None,
        grace_s: float = GRACE_S,
    ) -> None:
        self.queue = queue
        self.store = store
        self.running = running  # the answerer's running attempts; None: no handing back
        self.grace_s = grace_s
        self.hurry = threading.Event()  # set: stop waiting for running answers
        self.sweeper = Sweeper(store, queue.enqueue, lease_s, sweep_every, housekeeping,
                               telemetry)
        # Short polling delays: an idle SQLite queue is checked at least every 0.25 s.
        self._consumer = _QuietConsumer(
            queue.huey, workers=workers, periodic=False, initial_delay=0.02, backoff=1.2,
            max_delay=0.25, check_worker_health=False, shutdown_timeout=grace_s,
        )

    def start(self) -> None:
        self._consumer.start()
        self.sweeper.start()  # its first sweep re-runs what a dead predecessor left
        log.info("worker started with %d threads", self._consumer.workers)

    def sweep(self) -> int:
        return self.sweeper.sweep()

    def stop(self) -> None:
        """Take no new job; let running answers finish up to the grace period; hand the
        rest back to the queue; return."""
        self.sweeper.stop()
        if self.running is None:
            self._consumer.stop(graceful=True)
            return
        self._consumer.stop_flag.set()
        if not self.running.wait_idle(self.grace_s, self.hurry):
            self._hand_back(self.running)
        self._consumer.shutdown_timeout = AFTER_HANDING_BACK_S
        self._consumer.stop(graceful=True)

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
) -> EmbeddedWorker:
    """The worker as `gptbot serve` and `gptbot worker` run it, from the settings."""
    return EmbeddedWorker(queue, store, config.workers, config.job_lease_s,
                          housekeeping=housekeeping, running=running,
                          grace_s=config.shutdown_grace_s, telemetry=telemetry)
