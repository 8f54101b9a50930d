"""Moderation and the answer's timing: in parallel mode a flagged question ends its answer
mid-stream (not only at its end), and an answer stopped part-way is checked before its text
so far stays in the channel."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from gptbot.core.events import Finish, StreamEvent, TextDelta
from gptbot.core.types import ChatRequest
from gptbot.jobs.moderated import ANSWER_REFUSED, QUESTION_REFUSED
from gptbot.services import Services, build_services
from gptbot.store import AuditQuery
from gptbot.web.app import create_app
from tests.safety.test_moderated_answers import persisted
from tests.support.common import make_config
from tests.web.test_subcommands import post, run_queued

PIECES = 1000
PAUSE_S = 0.005  # 1,000 pieces: at least 5 s when nothing ends the answer early


class Slow:
    """Streams `text` piece after piece with a pause between, counting what it yielded;
    `after_first` runs once the first piece is out."""

    name = "openai"

    def __init__(self, text: str, after_first: Callable[[], None] = lambda: None) -> None:
        self.text = text
        self.after_first = after_first
        self.yielded = 0
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        for number in range(PIECES):
            yield TextDelta(self.text if number == 0 else ".")
            self.yielded += 1
            if number == 0:
                self.after_first()
            time.sleep(PAUSE_S)
        yield Finish("stop")


@pytest.fixture
def bot(tmp_path, http):
    built = []

    def build(provider: Slow, **safety):
        (tmp_path / "blocklist.txt").write_text("falcon\n")
        config = make_config(tmp_path, update_interval=0.05)
        safety = {"moderation": ("local",), "blocklist": str(tmp_path / "blocklist.txt"),
                  **safety}
        config = replace(config, safety=replace(config.safety, **safety))
        services = build_services(config, provider=provider)
        built.append(services)
        return create_app(config, services).test_client(), services

    yield build
    for services in built:
        services.close()


def final_texts(http) -> list[str]:
    return [w["text"] for w in persisted(http) if not w["generating"]]


def test_parallel_mode_ends_the_answer_when_the_verdict_comes_in(bot, http):
    provider = Slow("Project falcon is")
    client, services = bot(provider, moderation_mode="parallel")
    post(client, "Tell me about project falcon")
    run_queued(services)
    # The local verdict is in within milliseconds; the answer stops at the next look for a
    # stop (every 50 ms), far before the provider's thousandth piece.
    assert provider.yielded < PIECES // 2
    assert final_texts(http) == [QUESTION_REFUSED]


class StopsItself(Slow):
    """After its first piece, asks for a stop in the channel, as `/gpt stop` would."""

    services: Services | None = None

    def __init__(self, text: str) -> None:
        super().__init__(text, self.stop)

    def stop(self) -> None:
        assert self.services is not None
        self.services.stores.jobs.request_stop("messaging:general", time.time() + 1)


def test_a_stopped_answer_is_checked_before_its_text_stays(bot, http):
    provider = StopsItself("The falcon codes are")
    client, services = bot(provider)
    provider.services = services
    post(client, "What are the launch codes?")
    run_queued(services)
    assert provider.yielded < PIECES // 2  # the stop ended it
    assert final_texts(http) == [ANSWER_REFUSED]
    assert not any("falcon" in w["text"] for w in persisted(http) if not w["generating"])
    [record] = services.stores.audit.audit_records(AuditQuery())
    assert (record.outcome, record.moderation) == \
        ("refused", ("question:local:ok", "answer:local:flagged:blocklist"))


def test_a_clean_stopped_answer_keeps_its_text(bot, http):
    provider = StopsItself("Billing is under Settings")
    client, services = bot(provider)
    provider.services = services
    post(client, "Where is billing?")
    run_queued(services)
    [final] = final_texts(http)
    assert final.startswith("Billing is under Settings") and final.endswith("\n\n_Stopped._")
