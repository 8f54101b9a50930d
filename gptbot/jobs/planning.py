"""What to ask the model for one job: the prompt built from memory, the channel's persona and
recent messages; or, for `/gpt summarize`, the channel's transcript. Also whether the
response cache may answer (a first turn with no channel context)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial

from gptbot.config import Config
from gptbot.conversation.channel_history import recent_messages, transcript
from gptbot.conversation.memory import Memory
from gptbot.conversation.prompts import Prompts
from gptbot.conversation.summarize import channel_request, complete, fold_request
from gptbot.core.types import CallTag, ChatRequest, Turn
from gptbot.jobs.job import SUMMARIZE, AnswerJob
from gptbot.llm.providers import Provider
from gptbot.llm.tokens import clip_to_tokens, prompt_budget, usable_window
from gptbot.safety import Redactor
from gptbot.store import ConversationStore
from gptbot.stream.api import StreamApi

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plan:
    request: ChatRequest
    note: str = ""  # tells the reader when memory was summarized or cut
    system: str = ""
    cacheable: bool = False  # a first turn with no channel context: the cache may answer


class Planner:
    def __init__(self, config: Config, stream: StreamApi, provider: Provider,
                 conversations: ConversationStore, prompts: Prompts,
                 redactor: Redactor | None = None, cache_enabled: bool = False) -> None:
        self.config = config
        self.stream = stream
        self.provider = provider
        self.prompts = prompts
        self.cache_enabled = cache_enabled
        self.memory = Memory(conversations, prompt_budget(config), partial(self._fold, None),
                             redactor=redactor)

    def plan(self, job: AnswerJob) -> Plan:
        """The request to send, a note for the reader about the memory used, and whether
        the answer may come from (and go to) the response cache."""
        if job.kind == SUMMARIZE:
            lines = transcript(
                recent_messages(
                    self.stream, (job.channel_type, job.channel_id), job.parent_id, job.limit
                ),
                self.config.bot_user_id,
                include_bot=True,
            )
            request = channel_request(
                self.config.model, lines, self.config.max_tokens, self.memory.budget
            )
            return Plan(replace(request, tag=job.tag()))
        system = self.prompts.for_channel(job.cid)
        fold = partial(self._fold, replace(job.tag(), purpose="summary"))
        context = self._context(job)
        prompt = self.memory.prepare(
            job.conversation, system, job.question, context, summarize=fold
        )
        request = ChatRequest(self.config.model, prompt.messages,
                              max_tokens=self.config.max_tokens, tag=job.tag())
        cacheable = self.cache_enabled and prompt.fresh and not context
        return Plan(request, prompt.note, system, cacheable)

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

    def _fold(self, tag: CallTag | None, previous: str, turns: list[Turn], limit: int) -> str:
        request = fold_request(
            self.config.model, previous, turns, limit, usable_window(self.config)
        )
        return complete(self.provider, replace(request, tag=tag))
