"""Azure OpenAI: the OpenAI Chat Completions wire format at a per-deployment URL.

GPTBOT_MODEL names the *deployment*, which selects the model; the key goes in an
`api-key` header. Azure's quirks in the stream (a first chunk with empty `choices` and
`prompt_filter_results`, `finish_reason: content_filter`) are handled by openai_wire,
a filtered question (HTTP 400, code content_filter) by providers.http.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import requests

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.llm.providers.base import required
from gptbot.llm.providers.http import StreamingHttp
from gptbot.llm.providers.openai import OpenAIProvider


class AzureProvider(OpenAIProvider):
    name = "azure"

    def __init__(self, http: StreamingHttp, endpoint: str, api_key: str, api_version: str) -> None:
        super().__init__(http, endpoint, {"api-key": api_key})
        self.api_version = api_version

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> AzureProvider:
        endpoint = required(config.azure_endpoint, "AZURE_OPENAI_ENDPOINT")
        key = required(config.azure_api_key, "AZURE_OPENAI_API_KEY")
        if not config.model:
            raise ConfigError("GPTBOT_MODEL is not set: for Azure it is your deployment name")
        http = StreamingHttp.from_config(config, session)
        return cls(http, endpoint, key, config.azure_api_version)

    def url(self, model: str) -> str:
        # The deployment comes from the request, so a fallback entry azure:<other> works.
        deployment = quote(model, safe="")
        query = urlencode({"api-version": self.api_version})
        return f"{self.base_url}/openai/deployments/{deployment}/chat/completions?{query}"
