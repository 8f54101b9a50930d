"""The background job: turn one `/gpt` question into a streamed reply in the channel."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from gptbot.channel_history import recent_messages, transcript
from gptbot.config import Config
from gptbot.errors import GptBotError
from gptbot.generation import Generation, generate
from gptbot.memory import Memory, conversation_key
from gptbot.prompts import Prompts
from gptbot.providers import ChatRequest, Provider
from gptbot.reply import ReplyTarget, ReplyWriter
from gptbot.stop import STOPPED_NOTE, StoppableSink, StopRequested
from gptbot.store import Store, Turn
from gptbot.stream_api import StreamApi
from gptbot.summarize import channel_request, complete, fold_request
from gptbot.tokens import clip_to_tokens, prompt_budget, usable_window
from gptbot.tools import Toolbox, ToolContext
from gptbot.webhook import CommandCall

log = logging.getLogger(__name__)

# A running job that has not reported progress for this long is presumed dead and re-run.
LEASE_S = 180.0


def lease_for(config: Config) -> float:
    """Longer than any silence a live job can have: the LLM may be quiet up to its idle
    timeout (e.g. a busy local model) before the job writes, and so renews, again."""
    return max(LEASE_S, 3 * config.llm_idle_timeout)

ANSWER, SUMMARIZE = "answer", "summarize"  # job kinds
REPLY_PREFIX = "gpt-"  # every reply id (and so every part of a reply) starts with this


@dataclass(frozen=True, slots=True)
class AnswerJob:
    key: str
    reply_id: str
    channel_type: str
    channel_id: str
    parent_id: str | None
    user_id: str
    user_name: str
    question: str
    kind: str = ANSWER
    limit: int = 0  # SUMMARIZE: how many recent messages
    asked_at: float = 0.0  # stop requests from this moment on apply to this job

    @classmethod
    def from_call(cls, call: CommandCall, kind: str = ANSWER, limit: int = 0) -> AnswerJob:
        return cls(
            call.dedupe_key,
            reply_id_for(call),
            call.channel_type,
            call.channel_id,
            call.parent_id,
            call.user_id,
            call.user_name,
            call.args,
            kind,
            limit,
            time.time(),
        )

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AnswerJob:
        # Unknown keys are dropped: a newer web process may queue work for an older worker.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})

    @property
    def cid(self) -> str:
        return f"{self.channel_type}:{self.channel_id}"

    @property
    def conversation(self) -> str:
        return conversation_key(self.cid, self.parent_id)

    @property
    def stop_scopes(self) -> list[str]:
        """A stop for this thread, or for the whole channel, stops this job."""
        return list(dict.fromkeys([self.conversation, self.cid]))

    @property
    def remembered_question(self) -> str:
        if self.kind == SUMMARIZE:
            return f"Summarize the last {self.limit} messages here."
        return self.question


def reply_id_for(call: CommandCall) -> str:
    """Deterministic: a retried job finds its earlier reply (Stream answers code 4)."""
    source = call.message_id or call.webhook_id
    if re.fullmatch(r"[A-Za-z0-9_-]{1,200}", source):
        return REPLY_PREFIX + source
    return REPLY_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:40]


class Answerer:
    def __init__(
        self,
        config: Config,
        stream: StreamApi,
        provider: Provider,
        store: Store,
        clock: Callable[[], float] = time.monotonic,
        prompts: Prompts | None = None,
        toolbox: Toolbox | None = None,
    ) -> None:
        self.config = config
        self.toolbox = toolbox
        self.stream = stream
        self.provider = provider
        self.store = store
        self.clock = clock
        self.prompts = prompts or Prompts.from_config(config, store)
        self.memory = Memory(store, prompt_budget(config), self._fold)

    def run(self, job: AnswerJob) -> None:
        if not self.store.start_job(job.key, time.time(), lease_for(self.config)):
            log.info("job %s already done or running elsewhere; skipping", job.key)
            return
        writer = self._writer(job)
        if writer.begin():
            self._answer(job, writer)
        else:
            log.info("reply %s was already complete", job.reply_id)
        self.store.finish_job(job.key, time.time())

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
            on_progress=lambda: self.store.heartbeat_job(job.key, time.time()),
        )

    def _answer(self, job: AnswerJob, writer: ReplyWriter) -> None:
        since = job.asked_at or time.time()
        sink = StoppableSink(
            writer,
            lambda: self.store.stop_requested(job.stop_scopes, since),
            self.config.update_interval,
            self.clock,
        )
        try:
            sink.check()  # stopped while it waited in the queue
            request, note = self._plan(job)
            result = generate(self.provider, request, sink, tools=self.toolbox,
                              max_rounds=self.config.max_tool_rounds,
                              timeout=self.config.tool_timeout, context=tool_context(job))
        except StopRequested:
            log.info("answer %s stopped on request", job.reply_id)
            self._remember(job, sink.text)
            writer.finish(STOPPED_NOTE)
        except GptBotError as exc:
            log.warning("answer %s failed: %s", job.reply_id, exc)
            writer.fail(exc.user_message)
        except Exception:
            log.exception("answer %s failed unexpectedly", job.reply_id)
            writer.fail(GptBotError.user_message)
        else:
            self._log_usage(job, result)
            self._remember(job, result.text)
            writer.finish(" ".join(n for n in (note, result.note) if n))

    def _plan(self, job: AnswerJob) -> tuple[ChatRequest, str]:
        """The request to send, and a note for the reader about the memory used."""
        if job.kind == SUMMARIZE:
            lines = transcript(
                recent_messages(
                    self.stream, (job.channel_type, job.channel_id), job.parent_id, job.limit
                ),
                self.config.bot_user_id,
                include_bot=True,
            )
            return channel_request(
                self.config.model, lines, self.config.max_tokens, self.memory.budget
            ), ""
        system = self.prompts.for_channel(job.cid)
        prompt = self.memory.prepare(job.conversation, system, job.question, self._context(job))
        request = ChatRequest(self.config.model, prompt.messages, max_tokens=self.config.max_tokens)
        return request, prompt.note

    def _context(self, job: AnswerJob) -> list[str]:
        """The last GPTBOT_CHANNEL_CONTEXT messages of the channel (or thread), if enabled."""
        limit = self.config.channel_context
        if limit <= 0:
            return []
        try:
            messages = recent_messages(
                self.stream, (job.channel_type, job.channel_id), job.parent_id, limit
            )
        except Exception as exc:  # context is a nicety: answer without it
            log.warning("could not read recent messages of %s: %s", job.conversation, exc)
            return []
        lines = transcript(messages, self.config.bot_user_id, include_bot=False)
        return clip_to_tokens(lines, self.memory.budget // 4)

    def _fold(self, previous: str, turns: list[Turn], limit: int) -> str:
        request = fold_request(
            self.config.model, previous, turns, limit, usable_window(self.config)
        )
        return complete(self.provider, request)

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

    def _log_usage(self, job: AnswerJob, result: Generation) -> None:
        usage = result.usage
        log.info(
            "answered %s: %d chars, finish=%s, tokens in=%s out=%s",
            job.reply_id,
            len(result.text),
            result.finish_reason or "?",
            usage.input_tokens if usage else "?",
            usage.output_tokens if usage else "?",
        )


def tool_context(job: AnswerJob) -> ToolContext:
    return ToolContext(job.channel_type, job.channel_id, job.user_id, job.user_name)
