"""GPTBOT_MODERATION_CLASSIFIER: the embedded model as a second `local` check, through the
webhook and the job: UNSAFE refuses without an answer, SAFE answers, anything else is
"moderation unavailable"; and the settings it needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gptbot.config.safety import SafetySettings
from gptbot.core.errors import ConfigError
from gptbot.core.events import Finish, StreamEvent, TextDelta
from gptbot.core.types import ChatRequest
from gptbot.jobs.classifier import PROMPT, verdict_word
from gptbot.jobs.moderated import QUESTION_REFUSED, QUESTION_UNCHECKED
from gptbot.services import build_services
from gptbot.store import AuditQuery
from gptbot.web.app import create_app
from tests.support.common import make_config
from tests.support.fakes import final_texts
from tests.web.test_subcommands import post, run_queued

ANSWER = "Your shoes ship on Monday."


class Judge:
    """The embedded model, scripted: `verdict` to the classifier's prompt, ANSWER else."""

    name = "local"

    def __init__(self, verdict: str) -> None:
        self.verdict = verdict
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        yield TextDelta(self.verdict if request.messages[0].content == PROMPT else ANSWER)
        yield Finish("stop")

    def judged(self) -> list[str]:
        return [r.messages[1].content for r in self.requests if r.messages[0].content == PROMPT]


@pytest.fixture
def bot(tmp_path, http):
    built = []

    def build(verdict: str):
        config = make_config(tmp_path)
        safety = SafetySettings(moderation=("local",), classifier=True)
        config = replace(config, provider="local", safety=safety)
        provider = Judge(verdict)
        services = build_services(config, provider=provider)
        built.append(services)
        return create_app(config, services).test_client(), services, provider

    yield build
    for services in built:
        services.close()


@pytest.mark.parametrize(("reply", "flagged"), [
    ("SAFE", False), ("UNSAFE", True), (" unsafe.", True), ("Safe!", False), ("**UNSAFE**", True),
    ("", None), ("Maybe", None), ("I think it is SAFE", None),
])
def test_the_first_word_is_the_verdict(reply, flagged):
    assert verdict_word(reply) is flagged


def test_unsafe_refuses_and_the_model_is_never_asked_to_answer(bot, http):
    client, services, judge = bot("UNSAFE")
    post(client, "Where are my shoes?")
    run_queued(services)
    assert final_texts(http) == [QUESTION_REFUSED]
    assert judge.judged() == ["Where are my shoes?"] and len(judge.requests) == 1
    [record] = services.stores.audit.audit_records(AuditQuery())
    assert record.moderation == ("question:classifier:flagged:classifier",)


def test_safe_answers_and_the_answer_is_judged_too(bot, http):
    client, services, judge = bot("SAFE")
    post(client, "Where are my shoes?")
    run_queued(services)
    assert final_texts(http) == [ANSWER]
    assert judge.judged() == ["Where are my shoes?", ANSWER]


def test_a_reply_that_is_no_verdict_counts_as_unavailable(bot, http):
    client, services, _ = bot("Hmm, hard to say")
    post(client, "Where are my shoes?")
    run_queued(services)
    assert final_texts(http) == [QUESTION_UNCHECKED]  # closed, the default


@pytest.mark.parametrize(("env", "error"), [
    ({"GPTBOT_MODERATION": "openai", "GPTBOT_PROVIDER": "local"}, "include local"),
    ({"GPTBOT_MODERATION": "local"}, "GPTBOT_PROVIDER=local"),
])
def test_the_classifier_needs_local_moderation_and_the_embedded_model(env, error):
    with pytest.raises(ConfigError, match=error):
        SafetySettings.from_env({"GPTBOT_MODERATION_CLASSIFIER": "true", **env})


def test_the_classifier_is_off_by_default():
    assert not SafetySettings.from_env({"GPTBOT_MODERATION": "local"}).classifier
    on = {"GPTBOT_MODERATION_CLASSIFIER": "1", "GPTBOT_MODERATION": "local",
          "GPTBOT_PROVIDER": "local"}
    assert SafetySettings.from_env(on).classifier
