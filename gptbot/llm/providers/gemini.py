"""Google Gemini, streamed as SSE
(`POST {GEMINI_BASE_URL}/v1beta/models/{model}:streamGenerateContent?alt=sse`)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import requests

from gptbot.config import Config
from gptbot.core.events import StreamEvent
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.base import WholeCallNumbering, checked, required
from gptbot.llm.providers.gemini_wire import map_body, map_chunk, request_body
from gptbot.llm.providers.http import StreamingHttp


class GeminiProvider:
    name = "gemini"

    def __init__(self, http: StreamingHttp, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"x-goog-api-key": api_key, "Accept": "text/event-stream"}

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> GeminiProvider:
        key = required(config.gemini_api_key, "GEMINI_API_KEY")
        return cls(StreamingHttp.from_config(config, session), config.gemini_base_url, key)

    def url(self, model: str) -> str:
        name = quote(model.removeprefix("models/"), safe="")
        return f"{self.base_url}/v1beta/models/{name}:streamGenerateContent?alt=sse"

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.http.open(self.url(request.model), self.headers, request_body(request))
        if "json" in response.headers.get("Content-Type", ""):
            # Not SSE: errors come as plain (pretty-printed) JSON, even with HTTP 200.
            body = b"".join(self.http.iter_bytes(response)).decode("utf-8", "replace")
            yield from WholeCallNumbering()(checked(map_body, body))
            return
        numbering = WholeCallNumbering()
        for event in self.http.sse_events(response):
            yield from numbering(checked(map_chunk, event.data))
