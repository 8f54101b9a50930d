"""OpenAI Chat Completions, streamed; also any server that speaks the same API
(vLLM, llama.cpp, LM Studio, Groq, Mistral, DeepSeek, OpenRouter …) via OPENAI_BASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import requests

from gptbot.config import Config
from gptbot.core.events import StreamEvent
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.base import checked, required
from gptbot.llm.providers.http import StreamingHttp
from gptbot.llm.providers.openai_wire import is_done, map_chat_chunk, request_body

OPENAI_HOST = "api.openai.com"


class OpenAIProvider:
    name = "openai"

    def __init__(self, http: StreamingHttp, base_url: str, headers: dict[str, str]) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "text/event-stream", **headers}

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> OpenAIProvider:
        key = config.openai_api_key
        if urlsplit(config.openai_base_url).hostname == OPENAI_HOST:
            key = required(key, "OPENAI_API_KEY")  # local compatible servers need none
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return cls(StreamingHttp.from_config(config, session), config.openai_base_url, headers)

    def url(self, model: str) -> str:
        return self.base_url + "/chat/completions"

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.http.open(self.url(request.model), self.headers, request_body(request))
        for event in self.http.sse_events(response):
            if is_done(event.data):
                response.close()
                return
            yield from checked(map_chat_chunk, event.data, event.event)
