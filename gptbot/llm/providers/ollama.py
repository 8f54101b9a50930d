"""Ollama's native chat API, streamed as NDJSON (`POST {OLLAMA_HOST}/api/chat`); no key."""

from __future__ import annotations

from collections.abc import Iterator

import requests

from gptbot.config import Config
from gptbot.core.events import StreamEvent
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.base import WholeCallNumbering, checked
from gptbot.llm.providers.http import StreamingHttp
from gptbot.llm.providers.ollama_wire import map_line, request_body


class OllamaProvider:
    name = "ollama"

    def __init__(self, http: StreamingHttp, host: str) -> None:
        self.http = http
        self.url = host.rstrip("/") + "/api/chat"
        self.headers = {"Accept": "application/x-ndjson"}

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> OllamaProvider:
        return cls(StreamingHttp.from_config(config, session), config.ollama_host)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.http.open(self.url, self.headers, request_body(request))
        numbering = WholeCallNumbering()
        for line in self.http.ndjson_lines(response):
            yield from numbering(checked(map_line, line))
