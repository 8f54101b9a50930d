"""Anthropic Messages API, streamed (`POST {ANTHROPIC_BASE_URL}/v1/messages`)."""

from __future__ import annotations

from collections.abc import Iterator

import requests

from gptbot.config import Config
from gptbot.core.events import StreamEvent
from gptbot.core.types import ChatRequest
from gptbot.llm.providers.anthropic_wire import map_event, request_body
from gptbot.llm.providers.base import checked, required
from gptbot.llm.providers.http import StreamingHttp

API_VERSION = "2023-06-01"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, http: StreamingHttp, base_url: str, api_key: str) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.headers = {
            "x-api-key": api_key,
            "anthropic-version": API_VERSION,
            "Accept": "text/event-stream",
        }

    @classmethod
    def from_config(
        cls, config: Config, session: requests.Session | None = None
    ) -> AnthropicProvider:
        key = required(config.anthropic_api_key, "ANTHROPIC_API_KEY")
        return cls(StreamingHttp.from_config(config, session), config.anthropic_base_url, key)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.http.open(self.url, self.headers, request_body(request))
        for event in self.http.sse_events(response):
            if event.event == "message_stop":
                response.close()
                return
            yield from checked(map_event, event.data)
