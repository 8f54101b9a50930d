"""The background job: turn one `/gpt` question into a streamed reply in the channel."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from gptbot.config import Config
from gptbot.errors import GptBotError
from gptbot.generation import Generation, generate
from gptbot.providers import ChatMessage, ChatRequest, Provider
from gptbot.reply import ReplyTarget, ReplyWriter
from gptbot.store import Store
from gptbot.stream_api import StreamApi
from gptbot.webhook import CommandCall

log = logging.getLogger(__name__)

# A running job that has not reported progress for this long is presumed dead and re-run.
LEASE_S = 180.0

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

    @classmethod
    def from_call(cls, call: CommandCall) -> AnswerJob:
        return cls(call.dedupe_key, reply_id_for(call), call.channel_type, call.channel_id,
                   call.parent_id, call.user_id, call.user_name, call.args)

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AnswerJob:
        return cls(**payload)


def reply_id_for(call: CommandCall) -> str:
    """Deterministic: a retried job finds its earlier reply (Stream answers code 4)."""
    source = call.message_id or call.webhook_id
    if re.fullmatch(r"[A-Za-z0-9_-]{1,200}", source):
        return f"gpt-{source}"
    return "gpt-" + hashlib.sha256(source.encode()).hexdigest()[:40]


class Answerer:
    def __init__(self, config: Config, stream: StreamApi, provider: Provider, store: Store,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.stream = stream
        self.provider = provider
        self.store = store
        self.clock = clock

    def run(self, job: AnswerJob) -> None:
        if not self.store.start_job(job.key, time.time(), LEASE_S):
            log.info("job %s already done or running elsewhere; skipping", job.key)
            return
        writer = self._writer(job)
        if writer.begin():
            self._answer(job, writer)
        else:
            log.info("reply %s was already complete", job.reply_id)
        self.store.finish_job(job.key, time.time())

    def _writer(self, job: AnswerJob) -> ReplyWriter:
        target = ReplyTarget(job.channel_type, job.channel_id, job.reply_id, job.parent_id,
                             self.config.bot_user_id)
        return ReplyWriter(self.stream, target, self.config.update_interval,
                           self.config.max_message_length, self.clock,
                           on_progress=lambda: self.store.heartbeat_job(job.key, time.time()))

    def _answer(self, job: AnswerJob, writer: ReplyWriter) -> None:
        try:
            result = generate(self.provider, self._request(job), writer)
        except GptBotError as exc:
            log.warning("answer %s failed: %s", job.reply_id, exc)
            writer.fail(exc.user_message)
        except Exception:
            log.exception("answer %s failed unexpectedly", job.reply_id)
            writer.fail(GptBotError.user_message)
        else:
            self._log_usage(job, result)
            writer.finish(result.note)

    def _request(self, job: AnswerJob) -> ChatRequest:
        messages = (ChatMessage("system", self.config.system_prompt),
                    ChatMessage("user", job.question))
        return ChatRequest(self.config.model, messages, max_tokens=self.config.max_tokens)

    def _log_usage(self, job: AnswerJob, result: Generation) -> None:
        usage = result.usage
        log.info("answered %s: %d chars, finish=%s, tokens in=%s out=%s", job.reply_id,
                 len(result.text), result.finish_reason or "?",
                 usage.input_tokens if usage else "?", usage.output_tokens if usage else "?")
