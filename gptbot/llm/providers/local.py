"""The `local` provider: the embedded model (gptbot.local) behind our own openai provider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gptbot.config import Config
from gptbot.core.events import Status, StreamEvent
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.http import StreamingHttp, pooled_session
from gptbot.llm.providers.openai import OpenAIProvider
from gptbot.local.model import LocalModel, Options, ahead, start_local_model


@dataclass
class LocalModelProvider:
    """The bot's unchanged `openai` provider, pointed at the local server, which it starts
    on first use and again if it has exited while idle."""

    http: StreamingHttp
    choice: str = ""  # GPTBOT_LOCAL_MODEL
    cache_dir: Path | None = None
    options: Options | None = None
    status: LocalModel | None = None  # the last server used, for the dev UI
    name: str = "local"
    warned: bool = False  # a fallback is announced once, in the first answer's indicator

    @classmethod
    def from_config(cls, config: Config) -> LocalModelProvider:
        http = StreamingHttp(pooled_session(config.concurrency), config.llm_connect_timeout,
                             config.llm_idle_timeout, config.llm_max_retries)
        cache = Path(config.local_model_dir) if config.local_model_dir else None
        return cls(http, config.local_model, cache)

    def ensure(self) -> LocalModel:
        self.status = start_local_model(self.choice, self.cache_dir, self.options)
        return self.status

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        local = self.ensure()
        if local.warnings and not self.warned:
            self.warned = True
            yield Status(local.warnings[-1])
        waiting = ahead(local.base_url)
        if waiting:
            yield Status(f"Waiting for the local model: {waiting} "
                         f"{'answer' if waiting == 1 else 'answers'} ahead of yours")
        provider = OpenAIProvider(self.http, local.base_url, {})
        yield from provider.stream(replace(request, model=local.model))
