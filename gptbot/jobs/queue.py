"""Background jobs on huey: a SQLite queue file by default, Redis when configured.

The web process enqueues; an embedded worker (threads inside `gptbot serve`, one per
process — SQLite dequeues are exclusive, so every job still runs once) or a separate
`gptbot worker` process executes. A sweeper re-queues jobs whose worker died mid-way
(the store's lease); the deterministic reply id makes a second run safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import MemoryHuey, RedisHuey
from huey.api import Huey
from huey.consumer import Consumer
from huey.storage import SqliteStorage

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.store import JobStore

log = logging.getLogger(__name__)
TASK_NAME = "gptbot.answer"
QUEUED_GRACE_S = 600.0
# A running job that has not reported progress for this long is presumed dead and re-run.
LEASE_S = 180.0


def lease_for(config: Config) -> float:
    """Longer than any silence a live job can have: the LLM may be quiet up to its idle
    timeout (e.g. a busy local model) before the job writes, and so renews, again."""
    return max(LEASE_S, 3 * config.llm_idle_timeout)



def open_huey(queue_url: str) -> Huey:
    if queue_url.startswith(("redis://", "rediss://")):
        return RedisHuey("gptbot", url=queue_url, results=False)
    if queue_url.startswith("sqlite:///"):
        path = Path(queue_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return Huey("gptbot", results=False, storage_class=_SqliteQueue, filename=str(path))
    if queue_url == "memory://":
        return MemoryHuey("gptbot", results=False, immediate=True)
    raise ConfigError(f"GPTBOT_QUEUE_URL must be sqlite:///… or redis://…, not {queue_url!r}")


class _SqliteQueue(SqliteStorage):
    """huey's SQLite queue with synchronous=NORMAL: in WAL mode a commit still survives a
    process crash, and the webhook does not wait for an fsync on every enqueue."""

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("pragma synchronous=1")
        return connection


class JobQueue:
    """Enqueue answer jobs and run them; the same object serves the web side and the worker."""

    def __init__(self, huey: Huey, run: Callable[[dict[str, Any]], None]) -> None:
        self.huey = huey
        self._task = huey.task(name=TASK_NAME)(run)

    def enqueue(self, payload: dict[str, Any]) -> None:
        self._task(payload)

    def pending(self) -> int:
        return int(self.huey.pending_count())


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
        sweep_every: float = 30.0,
        housekeeping: Callable[[], None] | None = None,
    ) -> None:
        self.queue = queue
        self.housekeeping = housekeeping
        self.store = store
        self.lease_s = lease_s
        self.sweep_every = sweep_every
        self._stop = threading.Event()
        # Short polling delays: an idle SQLite queue is checked at least every 0.25 s.
        self._consumer = _QuietConsumer(
            queue.huey,
            workers=workers,
            periodic=False,
            initial_delay=0.02,
            backoff=1.2,
            max_delay=0.25,
            check_worker_health=False,
            shutdown_timeout=25,
        )
        self._sweeper = threading.Thread(
            target=self._sweep_loop, name="gptbot-sweeper", daemon=True
        )

    def start(self) -> None:
        self._consumer.start()
        self._sweeper.start()
        log.info("embedded worker started with %d threads", self._consumer.workers)

    def stop(self) -> None:
        """Let running answers finish (bounded), then return."""
        self._stop.set()
        self._consumer.stop(graceful=True)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.sweep_every):
            self.sweep()
            self._housekeep()

    def _housekeep(self) -> None:
        try:
            if self.housekeeping:
                self.housekeeping()
        except Exception as exc:  # pruning can wait for the next sweep
            log.warning("housekeeping failed: %s", exc)

    def sweep(self) -> int:
        try:
            stale = self.store.stale_jobs(time.time(), self.lease_s, QUEUED_GRACE_S)
        except Exception as exc:
            log.warning("job sweep failed: %s", exc)
            return 0
        for record in stale:
            log.warning("re-queueing %s job %s", record.state, record.key)
            self.store.requeue_job(record.key, time.time())
            self.queue.enqueue(record.payload)
        return len(stale)
