"""Everything the web side and the worker share, built once from one Config."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gptbot.answer import Answerer, AnswerJob
from gptbot.config import Config
from gptbot.jobs import JobQueue, open_huey
from gptbot.prompts import Prompts
from gptbot.providers import Provider, build_provider
from gptbot.store import Store, open_store
from gptbot.stream_api import StreamApi
from gptbot.tools import build_toolbox

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    store: Store
    stream: StreamApi
    provider: Provider
    answerer: Answerer
    jobs: JobQueue
    prompts: Prompts

    def close(self) -> None:
        self.store.close()


def build_services(
    config: Config,
    *,
    store: Store | None = None,
    stream: StreamApi | None = None,
    provider: Provider | None = None,
) -> Services:
    store = store or open_store(config.database_url)
    stream = stream or StreamApi.from_config(config)
    provider = provider or build_provider(config)
    prompts = Prompts.from_config(config, store)
    answerer = Answerer(config, stream, provider, store, prompts=prompts,
                        toolbox=build_toolbox(config))

    def run_answer(payload: dict[str, Any]) -> None:
        answerer.run(AnswerJob.from_payload(payload))

    jobs = JobQueue(open_huey(config.queue_url), run_answer)
    return Services(config, store, stream, provider, answerer, jobs, prompts)
