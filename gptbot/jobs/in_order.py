"""One answer at a time in each conversation: a question waits for the answers to the
questions asked before it there (in the channel, or in the thread), so it sees them in memory.

The webhook queues each answer job in its conversation's turn order (store/turn_order.py); a
job starts on its answer only when every job ahead of it has ended. A job ahead that is still
queued or running is waited for — its lease keeps that honest: a dead worker's job is re-run
by the sweeper and ends in time; one that has ended, or is unknown, leaves the order. While
it waits the reply shows `AI_STATE_THINKING` with "Waiting for the previous answer…", a stop
is still heard, and after `max_wait_s` it answers anyway: late beats never. A waiting job
gives its worker slot to another conversation's meanwhile (slots.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gptbot.core.states import THINKING
from gptbot.jobs.job import ANSWER, AnswerJob
from gptbot.jobs.slots import Slots
from gptbot.jobs.stop import StoppableSink
from gptbot.store import JobStore, TurnOrderStore
from gptbot.store.jobs import ENDED

log = logging.getLogger(__name__)
WAITING = "Waiting for the previous answer…"
MAX_WAIT_S = 600.0  # longer than any answer: only a job lost for good is waited out
POLL_S = 0.2


class TurnOrder:
    def __init__(self, store: TurnOrderStore, jobs: JobStore, max_wait_s: float = MAX_WAIT_S,
                 poll_s: float = POLL_S, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, slots: Slots | None = None) -> None:
        self.store = store
        self.slots = slots or Slots(1)  # the worker's (services.py); alone: nothing to give
        self.jobs = jobs
        self.max_wait_s = max_wait_s
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep

    def join(self, job: AnswerJob) -> None:
        """In the webhook, before the job is queued: its place in the conversation."""
        if job.kind == ANSWER:
            self.store.join_turn(job.conversation, job.key, job.asked_at)

    def wait(self, job: AnswerJob, sink: StoppableSink) -> None:
        """Until every job asked before this one here has ended (raises on a stop)."""
        if not self._ahead(job):
            return
        log.info("answer %s waits for the previous answer", job.reply_id)
        sink.set_state(THINKING, WAITING)
        with self.slots.stepped_aside():
            self._poll(job, sink)
        sink.set_state(THINKING)

    def _poll(self, job: AnswerJob, sink: StoppableSink) -> None:
        deadline = self.clock() + self.max_wait_s
        while True:
            sink.check()
            if self.clock() >= deadline:
                log.warning("answer %s stops waiting after %.0f s", job.reply_id, self.max_wait_s)
                return
            self.sleep(self.poll_s)
            if not self._ahead(job):
                return

    def leave(self, job: AnswerJob) -> None:
        """After an attempt: an ended job leaves the order (a retried one keeps its place).
        Never raises: a job left behind is tidied up by the next one to look (or pruned)."""
        try:
            record = self.jobs.job(job.key)
            if record is None or record.state in ENDED:
                self.store.leave_turn(job.conversation, job.key)
        except Exception as exc:  # e.g. the store closed under a worker shutting down
            log.warning("could not take %s out of its conversation's order: %s", job.key, exc)

    def _ahead(self, job: AnswerJob) -> list[str]:
        waiting = []
        for key in self.store.turns_ahead(job.conversation, job.key):
            record = self.jobs.job(key)
            if record is None or record.state in ENDED:  # left without leaving: tidy up
                self.store.leave_turn(job.conversation, key)
            else:
                waiting.append(key)
        return waiting
