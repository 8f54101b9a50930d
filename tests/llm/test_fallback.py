"""FallbackProvider: the next provider:model is tried only when the current one fails
before producing anything; auth errors and failures after the first token are final."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from gptbot.core.errors import ProviderAuthError, ProviderError, ProviderTimeout
from gptbot.core.events import Finish, StreamError, StreamEvent, TextDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.generation import generate
from gptbot.llm.providers import build_provider
from gptbot.llm.providers.fallback import Candidate, FallbackProvider
from tests.support.common import sse_chat_stream
from tests.support.provider_streams import RecordingSink, anthropic_stream, env_config, serve_quick
from tests.support.servers import FakeLLM

REQUEST = ChatRequest("primary-model", (ChatMessage("user", "hi"),))


@dataclass
class Scripted:
    """A provider whose stream yields `events`, raising any exception among them."""

    name: str
    events: list[StreamEvent | Exception]
    models: list[str] = field(default_factory=list)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.models.append(request.model)
        for event in self.events:
            if isinstance(event, Exception):
                raise event
            yield event


def run(*candidates: Candidate) -> list[StreamEvent]:
    return list(FallbackProvider(list(candidates)).stream(REQUEST))


def test_primary_answer_is_used_as_is() -> None:
    primary = Scripted("openai", [TextDelta("hi"), Finish("stop")])
    backup = Scripted("anthropic", [TextDelta("no")])
    assert run(Candidate(primary), Candidate(backup, "claude")) == [TextDelta("hi"), Finish("stop")]
    assert (primary.models, backup.models) == (["primary-model"], [])


@pytest.mark.parametrize(
    "failure",
    [ProviderError("refused"), ProviderTimeout("silent"), StreamError("Overloaded")],
    ids=["error", "timeout", "error-event"],
)
def test_failure_before_output_moves_on(
    failure: Exception | StreamEvent, caplog: pytest.LogCaptureFixture
) -> None:
    primary = Scripted("anthropic", [Usage(5, 1), failure])
    backup = Scripted("ollama", [TextDelta("from backup")])
    with caplog.at_level(logging.INFO):
        assert run(Candidate(primary), Candidate(backup, "llama")) == [TextDelta("from backup")]
    assert backup.models == ["llama"]
    assert "answer comes from fallback ollama:llama" in caplog.text


def test_auth_errors_are_final() -> None:
    backup = Scripted("ollama", [TextDelta("unused")])
    with pytest.raises(ProviderAuthError):
        run(Candidate(Scripted("openai", [ProviderAuthError("401")])), Candidate(backup, "m"))
    assert backup.models == []


def test_failure_after_the_first_token_is_final() -> None:
    primary = Scripted("openai", [TextDelta("half"), ProviderError("broke")])
    backup = Scripted("ollama", [TextDelta("unused")])
    stream = FallbackProvider([Candidate(primary), Candidate(backup, "m")]).stream(REQUEST)
    assert next(stream) == TextDelta("half")
    with pytest.raises(ProviderError, match="broke"):
        next(stream)
    assert backup.models == []


def test_all_failing_raises_the_last_error() -> None:
    with pytest.raises(ProviderError, match="second"):
        run(
            Candidate(Scripted("a", [ProviderError("first")])),
            Candidate(Scripted("b", [ProviderError("second")]), "m"),
        )


def test_empty_answer_is_an_answer() -> None:
    backup = Scripted("ollama", [TextDelta("unused")])
    assert run(Candidate(Scripted("openai", [])), Candidate(backup, "m")) == []
    assert backup.models == []


def test_end_to_end_overloaded_primary_falls_back_to_anthropic() -> None:
    overloaded = json.dumps({"error": {"message": "overloaded"}}).encode()
    primary = FakeLLM(overloaded, status=503)
    backup = FakeLLM(anthropic_stream(["Backup ", "answer"]))
    with serve_quick(primary) as first, serve_quick(backup) as second:
        config = env_config(
            OPENAI_API_KEY="sk",
            OPENAI_BASE_URL=first.url + "/v1",
            ANTHROPIC_API_KEY="ant",
            ANTHROPIC_BASE_URL=second.url,
            GPTBOT_FALLBACK="anthropic:claude-backup",
        )
        provider = build_provider(replace(config, llm_max_retries=1))
        sink = RecordingSink()
        generate(provider, replace(REQUEST, model=config.model), sink)
    assert sink.text == "Backup answer"
    assert primary.requests[0]["json"]["model"] == "gpt-4o-mini"
    assert backup.requests[0]["json"]["model"] == "claude-backup"


def test_end_to_end_healthy_primary_never_touches_the_fallback() -> None:
    primary = FakeLLM(sse_chat_stream(["fine"]))
    with serve_quick(primary) as first:
        config = env_config(
            OPENAI_API_KEY="sk",
            OPENAI_BASE_URL=first.url + "/v1",
            GPTBOT_FALLBACK="ollama:llama3.2",
            OLLAMA_HOST="127.0.0.1:9",
        )
        sink = RecordingSink()
        generate(build_provider(config), REQUEST, sink)
    assert sink.text == "fine"
