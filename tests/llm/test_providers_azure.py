"""Azure OpenAI: deployment URL, api-key header, content filter (in the stream and as a
rejected question), and the provider end to end with only Azure's variables."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import responses

from gptbot.core.errors import ConfigError, ProviderAuthError
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.generation import generate
from gptbot.llm.providers import build_provider
from gptbot.llm.providers.http import ContentFiltered
from tests.support.common import sse_chat_stream
from tests.support.provider_streams import RecordingSink, env_config, serve_quick
from tests.support.servers import FakeLLM
from tests.support.wire_cases import capture_file

REQUEST = ChatRequest("ignored", (ChatMessage("system", "be brief"), ChatMessage("user", "hi")))


def azure_env(endpoint: str, **more: str) -> dict[str, str]:
    return {
        "GPTBOT_PROVIDER": "azure",
        "AZURE_OPENAI_ENDPOINT": endpoint,
        "AZURE_OPENAI_API_KEY": "azure-key",
        "GPTBOT_MODEL": "my-gpt4o",
        **more,
    }


def test_streams_from_the_deployment_url_with_api_key_header() -> None:
    fake = FakeLLM(sse_chat_stream(["Hallo", " Welt!"]))
    with serve_quick(fake) as server:
        config = env_config(**azure_env(server.url + "/", OPENAI_API_VERSION="2025-01-01"))
        sink = RecordingSink()
        generate(build_provider(config), replace(REQUEST, model=config.model), sink)
    assert sink.text == "Hallo Welt!"
    sent = fake.requests[0]
    assert sent["path"] == "/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01"
    assert sent["headers"]["api-key"] == "azure-key"
    assert "Authorization" not in sent["headers"]
    assert sent["json"]["messages"][1] == {"role": "user", "content": "hi"}


def test_captured_content_filter_stream() -> None:
    body, expected = capture_file("azure-chat-content-filter.sse")
    with serve_quick(FakeLLM(body)) as server:
        provider = build_provider(env_config(**azure_env(server.url)))
        result = generate(provider, REQUEST, RecordingSink())
    assert (result.text, result.finish_reason) == (expected["expected_text"], "stop")


def test_filtered_output_ends_with_a_polite_note() -> None:
    with serve_quick(FakeLLM(sse_chat_stream(["Here is"], finish="content_filter"))) as server:
        provider = build_provider(env_config(**azure_env(server.url)))
        result = generate(provider, REQUEST, RecordingSink())
    assert result.text == "Here is"
    assert result.note == "Part of this answer was withheld by the content filter."


@responses.activate
def test_filtered_question_is_final_and_polite() -> None:
    error = {
        "error": {
            "message": "The response was filtered",
            "code": "content_filter",
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation"},
        }
    }
    url = "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions"
    responses.add(responses.POST, url, status=400, body=json.dumps(error))
    provider = build_provider(env_config(**azure_env("https://res.openai.azure.com")))
    with pytest.raises(ContentFiltered) as caught:
        list(provider.stream(replace(REQUEST, model="my-gpt4o")))
    assert isinstance(caught.value, ProviderAuthError)  # final: neither retried nor fallen back
    assert "content filter" in caught.value.user_message
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_ENDPOINT"),
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"),
        ("GPTBOT_MODEL", "deployment"),
    ],
)
def test_missing_settings_are_named(missing: str, variable: str) -> None:
    env = azure_env("https://res.openai.azure.com")
    del env[missing]
    with pytest.raises(ConfigError, match=variable):
        build_provider(env_config(**env))
