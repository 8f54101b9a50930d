"""The audit record of one answered command, written when its attempt ends.

Tokens and cost are the sum of the reply's ledger rows (every model call made for it:
answer, summary folds, tool rounds, fallbacks, earlier attempts); the question and the answer
are kept as the model saw them, redacted when redaction is on. Never raises: an audit that
cannot be written is logged, and the answer stands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gptbot.jobs.job import AnswerJob
from gptbot.safety import Redactor
from gptbot.store import AuditRecord, AuditStore, LedgerRow, LedgerStore

log = logging.getLogger(__name__)
DAY_S = 86400.0
DONE, FAILED, STOPPED, REFUSED, CACHED = "done", "failed", "stopped", "refused", "cached"
HANDOFF = "handoff"  # a conversation handed to the operators (jobs/handoff.py)
REFUSED_CALL = "refused_limit"  # a ledger row for a call the budgets refused: it cost nothing
NOT_THE_ANSWER = ("summary", "handoff")  # purposes whose model is not the one that answered


class Auditor:
    def __init__(
        self,
        store: AuditStore,
        ledger: LedgerStore | None,
        model: str,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ledger = ledger  # None: costs are not tracked, tokens and cost stay unknown
        self.model = model
        self.redactor = redactor
        self.clock = clock

    def record(self, job: AnswerJob, outcome: str, answer: str = "",
               moderation: tuple[str, ...] = ()) -> None:
        try:
            self.store.record_audit(self.build(job, outcome, answer, moderation))
        except Exception:  # the answer is in the channel; the audit must not undo it
            log.exception("could not write the audit record of %s", job.reply_id)

    def build(self, job: AnswerJob, outcome: str, answer: str,
              moderation: tuple[str, ...] = ()) -> AuditRecord:
        """`moderation`: one verdict a check, e.g. `question:openai:ok`,
        `answer:local:flagged:blocklist` or `question:unavailable`."""
        now = self.clock()
        rows = self._rows(job, now)
        costs = [row.cost_usd for row in rows if row.outcome != REFUSED_CALL]
        return AuditRecord(
            at=now, reply_id=job.reply_id, user_id=job.user_id, channel=job.cid,
            question=self._redact(job.question), answer=self._redact(answer.strip()),
            model=_model(rows) or self.model,
            input_tokens=sum(row.input_tokens for row in rows),
            output_tokens=sum(row.output_tokens for row in rows),
            cost_usd=_total(costs) if self.ledger is not None else None,
            outcome=outcome, moderation=moderation,
        )

    def _rows(self, job: AnswerJob, now: float) -> list[LedgerRow]:
        if self.ledger is None:
            return []
        since = job.asked_at or now - DAY_S  # an old payload without the time it was asked
        return self.ledger.reply_rows(job.reply_id, since)

    def _redact(self, text: str) -> str:
        if self.redactor is not None and self.redactor.enabled:
            return self.redactor.redact(text)
        return text


def _model(rows: list[LedgerRow]) -> str:
    answering = [row.model for row in rows if row.purpose not in NOT_THE_ANSWER]
    return answering[-1] if answering else ""


def _total(costs: list[float | None]) -> float | None:
    """The sum; None when any call was unpriced (never pretend $0)."""
    known = [cost for cost in costs if cost is not None]
    return None if len(known) < len(costs) else sum(known)
