"""OpenAI Chat Completions, streamed; also any server that speaks the same API
(vLLM, llama.cpp, LM Studio, Groq, Mistral, DeepSeek, OpenRouter …) via OPENAI_BASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import requests

from gptbot.config import Config
from gptbot.errors import ProviderError
from gptbot.events import StreamEvent
from gptbot.providers.base import ChatRequest
from gptbot.providers.http import StreamingHttp
from gptbot.providers.openai_wire import is_done, map_chat_chunk
from gptbot.sse import SSEDecoder


class OpenAIProvider:
    name = "openai"

    def __init__(self, http: StreamingHttp, base_url: str, api_key: str | None) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> OpenAIProvider:
        http = StreamingHttp(session or requests.Session(), config.llm_connect_timeout,
                             config.llm_idle_timeout, config.llm_max_retries)
        return cls(http, config.openai_base_url, config.openai_api_key)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.http.open(self.url, self._headers(), request_body(request))
        decoder = SSEDecoder()
        for chunk in self.http.iter_bytes(response):
            for event in decoder.feed(chunk):
                if is_done(event.data):
                    response.close()
                    return
                yield from _map(event.data, event.event)
        for event in decoder.close():
            if not is_done(event.data):
                yield from _map(event.data, event.event)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.api_key:  # local OpenAI-compatible servers need no key
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [asdict(message) for message in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.max_tokens:
        body["max_tokens"] = request.max_tokens
    return {**body, **request.extra}


def _map(data: str, event: str) -> list[StreamEvent]:
    try:
        return map_chat_chunk(data, event)
    except ValueError as exc:
        raise ProviderError(f"unreadable stream chunk: {exc}") from exc
