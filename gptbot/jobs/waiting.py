"""Backpressure made visible: while a worker is at GPTBOT_CONCURRENCY, the askers of queued
answers see "Waiting…" instead of nothing.

The dispatcher leaves those jobs in the queue (another process may take them first) and
calls this, at most every `every_s`: it peeks at the next queued jobs and, once per reply,
posts the reply's placeholder (its deterministic id, so the job's own attempt finds and
continues it) with `AI_STATE_THINKING` and an `ai_message` saying the answer waits. With
several workers at their limit, the first to post a placeholder tells; the others find it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from huey.api import Huey

from gptbot.config import Config
from gptbot.core.states import THINKING
from gptbot.jobs.job import AnswerJob
from gptbot.stream.api import StreamApi
from gptbot.stream.reply import ReplyTarget, ReplyWriter

log = logging.getLogger(__name__)
WAITING = "Many questions right now: yours is next in line…"
PEEK = 20  # queued jobs looked at per call: the ones a free slot takes first
EVERY_S = 2.0


class WaitingNotice:
    def __init__(self, huey: Huey, stream: StreamApi, config: Config, peek: int = PEEK,
                 every_s: float = EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.huey = huey
        self.stream = stream
        self.config = config
        self.peek = peek
        self.every_s = every_s
        self.clock = clock
        self.told: set[str] = set()  # replies already shown as waiting, still queued
        self._last = float("-inf")

    def __call__(self) -> None:
        if self.clock() - self._last < self.every_s:
            return
        self._last = self.clock()
        queued = self._queued()
        self.told &= {job.reply_id for job in queued}  # the rest left the queue: forget them
        for job in queued:
            if job.reply_id not in self.told:
                self.told.add(job.reply_id)
                self._tell(job)

    def _queued(self) -> list[AnswerJob]:
        jobs = []
        for raw in self.huey.storage.enqueued_items(self.peek):
            args: Any = self.huey.deserialize_task(raw).args
            if args and isinstance(args[0], dict):
                jobs.append(AnswerJob.from_payload(args[0]))
        return jobs

    def _tell(self, job: AnswerJob) -> None:
        target = ReplyTarget(job.channel_type, job.channel_id, job.reply_id, job.parent_id,
                             self.config.bot_user_id)
        writer = ReplyWriter(self.stream, target, self.config.update_interval,
                             self.config.max_message_length)
        try:
            if writer.post_placeholder():  # not already there: tell it once, whoever does
                writer.set_state(THINKING, WAITING)
        except Exception as exc:  # cosmetic: the answer itself comes all the same
            log.warning("could not show %s as waiting: %s", job.reply_id, exc)
