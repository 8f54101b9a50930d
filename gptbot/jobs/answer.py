"""The background job: turn one `/gpt` question into a streamed reply in the channel."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext

from gptbot.config import Config
from gptbot.conversation.answer_cache import AnswerCache
from gptbot.conversation.prompts import Prompts
from gptbot.core.errors import GptBotError, LimitReached, member_message
from gptbot.core.types import Turn
from gptbot.costs.accountant import Accountant
from gptbot.costs.quotas import Quotas
from gptbot.jobs import audit_record as audited
from gptbot.jobs.audit_record import Auditor
from gptbot.jobs.handoff import HandoffDesk
from gptbot.jobs.in_order import TurnOrder
from gptbot.jobs.job import HANDOFF, SUMMARIZE, AnswerJob
from gptbot.jobs.lifecycle import CANCELLED, Lifecycle, Outcome, describe
from gptbot.jobs.moderated import Moderation, Refused, Screening
from gptbot.jobs.planning import Plan, Planner
from gptbot.jobs.running import RunningJob, RunningJobs
from gptbot.jobs.stop import STOPPED_NOTE, JobCancelled, StoppableSink, StopRequested
from gptbot.jobs.voice_steps import SpokenAnswer, VoiceSteps
from gptbot.llm.generation import Generation, TextSink, generate
from gptbot.llm.providers import Provider
from gptbot.llm.tools import Toolbox
from gptbot.safety import Redactor
from gptbot.store import AuditStore, ConversationStore, JobStore, SettingsStore
from gptbot.store.jobs import DONE, FAILED, STOPPED
from gptbot.stream.api import StreamApi
from gptbot.stream.reply import ReplyTarget, ReplyWriter
from gptbot.stream.watcher import ChannelWatcher
from gptbot.telemetry import Telemetry
from gptbot.voice.errors import VoiceError
from gptbot.voice.service import VoiceService

log = logging.getLogger(__name__)
GAVE_UP_NOTE = "Sorry, this answer failed several times and was given up. Please try again."


class Answerer:
    def __init__(
        self,
        config: Config,
        stream: StreamApi,
        provider: Provider,
        jobs: JobStore,
        conversations: ConversationStore,
        prompts: Prompts,
        clock: Callable[[], float] = time.monotonic,
        toolbox: Toolbox | None = None,
        quotas: Quotas | None = None,
        accountant: Accountant | None = None,
        cache: AnswerCache | None = None,
        telemetry: Telemetry | None = None,
        audit: AuditStore | None = None,
        redactor: Redactor | None = None,
        moderation: Moderation | None = None,
        settings: SettingsStore | None = None,
        order: TurnOrder | None = None,
        watcher: ChannelWatcher | None = None,
        voice: VoiceService | None = None,
    ) -> None:
        self.config = config
        self.toolbox = toolbox
        self.stream = stream
        self.provider = provider
        self.jobs = jobs
        self.clock = clock
        self.quotas = quotas  # the 80 % budget notes; None when costs are not tracked
        self.accountant = accountant  # ledger rows for cached answers
        self.cache = cache if cache and cache.enabled else None
        self.prompts = prompts
        self.redactor = redactor
        self.moderation = moderation or Moderation(None)  # GPTBOT_MODERATION (jobs/moderated.py)
        ledger = accountant.ledger if accountant else None
        self.auditor = Auditor(audit, ledger, config.model, redactor) \
            if audit is not None and config.safety.audit else None
        self.handoffs = HandoffDesk.build(config, stream, settings, conversations, provider,
                                          self.auditor, accountant)
        if self.handoffs is not None:  # the model may call the operators itself
            self.toolbox = Toolbox([*(toolbox.tools.values() if toolbox else ()),
                                    self.handoffs.tool()])
        self.order = order  # one answer at a time per conversation (jobs/in_order.py)
        self.watcher = watcher  # hears the Stop button on the bot's WebSocket
        self.running = RunningJobs()  # what a worker shutting down hands back
        self.lifecycle = Lifecycle(jobs, config.job_lease_s, self.running, telemetry)
        self.planner = Planner(config, stream, provider, conversations, prompts, redactor,
                               cache_enabled=self.cache is not None)
        self.memory = self.planner.memory
        self.voice = VoiceSteps(voice, stream, config.bot_user_id, accountant) if voice else None

    def run(self, job: AnswerJob) -> None:
        """One attempt at the job; its end is recorded whatever happens (see lifecycle.py)."""
        try:
            self.lifecycle.run(job, self._attempt)
        finally:
            if self.order is not None:
                self.order.leave(job)

    def _attempt(self, job: AnswerJob, run: RunningJob) -> Outcome:
        if job.kind == HANDOFF:  # no reply to write: the operators' message is the work
            return self.handoffs.run(job) if self.handoffs else Outcome(FAILED, "no operators")
        writer = self._writer(job)
        if run.attempt > self.config.job_max_attempts:
            return self._give_up(job, writer, run.attempt)
        if not writer.begin():
            log.info("reply %s was already complete", job.reply_id)
            return Outcome(DONE)
        with self.watcher.watching(job.cid) if self.watcher else nullcontext():
            return self._answer(job, writer, run)

    def _give_up(self, job: AnswerJob, writer: ReplyWriter, attempt: int) -> Outcome:
        """Parked as failed: the reply says so, `gptbot jobs --failed` says why."""
        last = self.lifecycle.last_reason(job.key) or "the worker stopped mid-way"
        reason = f"gave up after {attempt - 1} attempts ({last})"
        log.error("job %s %s", job.key, reason)
        try:
            if not writer.begin():
                return Outcome(DONE)
            writer.fail(GAVE_UP_NOTE)
        except Exception:  # the job ends anyway: re-running it would only fail again
            log.exception("could not show that %s was given up", job.reply_id)
        self._audit(job, audited.FAILED)
        return Outcome(FAILED, reason)

    def _writer(self, job: AnswerJob) -> ReplyWriter:
        target = ReplyTarget(
            job.channel_type, job.channel_id, job.reply_id, job.parent_id, self.config.bot_user_id
        )
        return ReplyWriter(
            self.stream,
            target,
            self.config.update_interval,
            self.stream.message_limit(job.channel_type, self.config.max_message_length),
            self.clock,
        )

    def _answer(self, job: AnswerJob, writer: ReplyWriter, run: RunningJob) -> Outcome:
        """Writes the reply; a failed final write raises, and the attempt is retried."""
        since = job.asked_at or time.time()
        try:  # the transcript becomes the question: everything below applies to it
            job, heard = self.voice.hear(job) if self.voice else (job, None)
        except VoiceError as exc:
            return self._unheard(job, writer, exc)
        screen = self.moderation.screen(job.question if job.kind != SUMMARIZE else "")

        def stopped() -> bool:
            screen.poll()  # parallel moderation: a flagged question ends the answer now
            return self.jobs.stop_requested(job.stop_scopes, since)

        voiced = self.voice.sink(job, writer) if self.voice else writer
        sink = StoppableSink(voiced, stopped, self.config.update_interval, self.clock,
                             run.cancelled)
        try:
            sink.check()  # stopped while it waited in the queue
            if self.order is not None:
                self.order.wait(job, sink)  # the previous answer here first
            if heard:  # straight to the reply: neither remembered nor spoken
                writer.add(heard.quote + "\n\n")
            screen.start()  # blocking: a flagged question never reaches the model
            plan = self.planner.plan(job)
            result = self._cached(job, plan, sink) or self._generate(job, plan, sink)
            screen.finish(result.text)  # before the final write: flagged text is withdrawn
        except JobCancelled:
            log.info("answer %s %s; the next attempt writes it", job.reply_id, run.why)
            return Outcome(CANCELLED, run.why)
        except StopRequested:
            return self._stopped(job, writer, sink.text, screen)
        except Refused as exc:
            return self._refuse(job, writer, exc, screen)
        except GptBotError as exc:
            log.warning("answer %s failed: %s", job.reply_id, exc)
            writer.fail(member_message(exc))  # a broken part is named, never a secret
            self._audit(job, audited.REFUSED if isinstance(exc, LimitReached) else audited.FAILED)
            return Outcome(FAILED, describe(exc))
        except Exception as exc:
            log.exception("answer %s failed unexpectedly", job.reply_id)
            writer.fail(GptBotError.user_message)
            self._audit(job, audited.FAILED)
            return Outcome(FAILED, describe(exc))
        return self._done(job, writer, voiced, plan, result, screen)

    def _done(self, job: AnswerJob, writer: ReplyWriter, voiced: TextSink, plan: Plan,
              result: Generation, screen: Screening) -> Outcome:
        """The final write; then memory, the response cache, the audit and a spoken answer."""
        self._log_usage(job, result)
        note = self._notes(job, plan, result)
        writer.finish(note)
        self._remember(job, result.text)  # after the final write: a retried attempt starts clean
        cached = result.finish_reason == "cached"
        if not cached:
            self._cache(job, plan, result)
        self._audit(job, audited.CACHED if cached else audited.DONE, result.text, screen.verdicts)
        if self.voice and isinstance(voiced, SpokenAnswer):  # never raises: the text stands
            self.voice.attach(job, writer, voiced, result.text, note)
        return Outcome(DONE)

    def _unheard(self, job: AnswerJob, writer: ReplyWriter, exc: VoiceError) -> Outcome:
        """The recording could not be used: the reply says why, and no model is called."""
        log.info("answer %s: voice message not used: %s", job.reply_id, exc)
        writer.fail(exc.user_message)
        self._audit(job, audited.FAILED)
        return Outcome(FAILED, describe(exc))

    def _stopped(self, job: AnswerJob, writer: ReplyWriter, text: str,
                 screen: Screening) -> Outcome:
        """The text so far stays, once moderation has passed it like any answer."""
        log.info("answer %s stopped on request", job.reply_id)
        try:
            screen.finish(text)
        except Refused as exc:
            return self._refuse(job, writer, exc, screen)
        writer.finish(STOPPED_NOTE)
        self._remember(job, text)
        self._audit(job, audited.STOPPED, text, screen.verdicts)
        return Outcome(STOPPED)

    def _refuse(self, job: AnswerJob, writer: ReplyWriter, refusal: Refused,
                screen: Screening) -> Outcome:
        """The reply becomes exactly the refusal; nothing is remembered or cached."""
        log.info("answer %s refused by moderation", job.reply_id)
        writer.replace(refusal.user_message)
        self._audit(job, audited.REFUSED, refusal.user_message, screen.verdicts)
        return Outcome(DONE)

    def _generate(self, job: AnswerJob, plan: Plan, sink: StoppableSink) -> Generation:
        return generate(self.provider, plan.request, sink, tools=self.toolbox,
                        max_rounds=self.config.max_tool_rounds,
                        timeout=self.config.tool_timeout, context=job.tool_context(),
                        show_reasoning=self.config.show_reasoning)

    def _cache(self, job: AnswerJob, plan: Plan, result: Generation) -> None:
        if self.cache and plan.cacheable and not result.note and not result.tool_rounds:
            self.cache.remember(job.question, plan.system, plan.request.model, result.text)

    def _cached(self, job: AnswerJob, plan: Plan, sink: StoppableSink) -> Generation | None:
        """An earlier answer to the same first question: no model call, streamed the same."""
        if not (self.cache and plan.cacheable):
            return None
        answer = self.cache.lookup(job.question, plan.system, plan.request.model)
        if answer is None:
            return None
        log.info("answer %s comes from the response cache", job.reply_id)
        if self.accountant:
            self.accountant.record_cached(job.tag(), self.provider.name, plan.request.model)
        for piece in pieces(answer):
            sink.add(piece)
        return Generation(text=answer, finish_reason="cached")

    def _notes(self, job: AnswerJob, plan: Plan, result: Generation) -> str:
        voice = self.voice.notes(job) if self.voice else []
        return " ".join(n for n in (plan.note, result.note, *self._warnings(job), *voice) if n)

    def _warnings(self, job: AnswerJob) -> list[str]:
        if self.quotas is None:
            return []
        try:
            return self.quotas.warnings(job.tag())
        except Exception:  # a missing heads-up must not cost the answer
            log.exception("could not check the budgets for %s", job.reply_id)
            return []

    def _remember(self, job: AnswerJob, answer: str) -> None:
        turn = Turn(
            job.reply_id,
            job.asked_at or time.time(),
            job.user_id,
            job.user_name,
            job.remembered_question,
            answer.strip(),
        )
        try:
            self.memory.remember(job.conversation, turn)
        except Exception:  # the answer is already in the channel; memory is secondary
            log.exception("could not remember %s", job.reply_id)

    def _audit(self, job: AnswerJob, outcome: str, answer: str = "",
               moderation: list[str] | None = None) -> None:
        if self.auditor is not None:  # never raises
            self.auditor.record(job, outcome, answer, tuple(moderation or ()))

    def _log_usage(self, job: AnswerJob, result: Generation) -> None:
        usage = result.usage
        log.info("answered %s: %d chars, finish=%s, tokens in=%s out=%s", job.reply_id,
                 len(result.text), result.finish_reason or "?",
                 usage.input_tokens if usage else "?", usage.output_tokens if usage else "?")


def pieces(text: str, size: int = 24) -> list[str]:
    """A cached answer in pieces, so it reaches the channel the way a generated one does."""
    return [text[start:start + size] for start in range(0, len(text), size)]
