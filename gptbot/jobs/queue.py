"""Background jobs on huey: a SQLite queue file by default, Redis when configured.

The web process enqueues; a worker (worker.py: embedded in `gptbot serve`, or `gptbot
worker`) executes. Messages are JSON (serializer.py), never pickle. A running job holds a
short lease that its heartbeat renews (heartbeat.py); the sweeper (sweeper.py) re-queues the
jobs of dead workers, and the deterministic reply id makes a second run safe.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import MemoryHuey, RedisHuey
from huey.api import Huey
from huey.storage import SqliteStorage

from gptbot.core.errors import ConfigError
from gptbot.jobs.serializer import JsonSerializer
from gptbot.jobs.sweeper import QUEUED_GRACE_S
from gptbot.jobs.worker import EmbeddedWorker, worker_for

TASK_NAME = "gptbot.answer"
# The default lease (GPTBOT_JOB_LEASE_S): a job whose heartbeat stopped this long ago is
# presumed dead and re-run. The heartbeat renews it every third of it, whatever the model does.
LEASE_S = 15.0
POOL_SPARE = 16  # Redis connections beyond the answers': sweeper, dispatcher, hand-back


def with_pool_size(url: str, concurrency: int) -> str:
    """A Redis URL whose client keeps enough connections for `concurrency` answers, each with
    its heartbeat, holding one at once (redis-py's default pool of 100 refuses the 101st:
    "Too many connections"). Other URLs, and one that names its own size, stay as they are."""
    if not url.startswith(("redis://", "rediss://")) or "max_connections=" in url:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}max_connections={2 * concurrency + POOL_SPARE}"


def open_huey(queue_url: str) -> Huey:
    if queue_url.startswith(("redis://", "rediss://")):
        return RedisHuey("gptbot", url=queue_url, results=False, serializer=JsonSerializer())
    if queue_url.startswith("sqlite:///"):
        path = Path(queue_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return Huey("gptbot", results=False, storage_class=_SqliteQueue, filename=str(path),
                    serializer=JsonSerializer())
    if queue_url == "memory://":
        return MemoryHuey("gptbot", results=False, immediate=True, serializer=JsonSerializer())
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


__all__ = ["LEASE_S", "QUEUED_GRACE_S", "TASK_NAME", "EmbeddedWorker", "JobQueue", "open_huey",
           "with_pool_size", "worker_for"]
