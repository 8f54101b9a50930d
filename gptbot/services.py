"""Everything the web side and the worker share, built once from one Config.

The composition root: the only module that knows every part. Consumers receive the parts
they use (the web side a `CommandContext`, the worker an `Answerer` and the job store).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gptbot.config import Config
from gptbot.conversation.answer_cache import AnswerCache
from gptbot.conversation.prompts import Prompts
from gptbot.costs.accountant import Accountant
from gptbot.costs.periods import Periods, parse_timezone
from gptbot.costs.prices import PriceTable
from gptbot.costs.quotas import Quotas
from gptbot.jobs.answer import Answerer
from gptbot.jobs.in_order import TurnOrder
from gptbot.jobs.job import AnswerJob
from gptbot.jobs.moderated import Moderation
from gptbot.jobs.queue import JobQueue, open_huey, with_pool_size
from gptbot.jobs.slots import Slots
from gptbot.jobs.stop import record_stop
from gptbot.llm.metering import MeteredProvider, Observers
from gptbot.llm.providers import Provider, build_provider
from gptbot.llm.providers.fallback import FallbackProvider
from gptbot.llm.tools import build_toolbox
from gptbot.safety import RedactingProvider, Redactor
from gptbot.store import JobStore, Stores, open_stores
from gptbot.stream.api import StreamApi
from gptbot.stream.watcher import ChannelWatcher, StopSignal
from gptbot.telemetry import Telemetry
from gptbot.voice.cache import MemoryTranscriptCache, SqliteTranscriptCache, TranscriptCache
from gptbot.voice.service import VoiceService

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    stores: Stores
    stream: StreamApi
    provider: Provider
    answerer: Answerer
    queue: JobQueue
    prompts: Prompts
    costs: Costs
    telemetry: Telemetry = field(default_factory=Telemetry.off)
    redactor: Redactor = field(default_factory=lambda: Redactor(()))  # GPTBOT_REDACT
    slots: Slots | None = None  # the worker's, shared with the answers' turn order

    def close(self) -> None:
        if self.answerer.watcher is not None:
            self.answerer.watcher.close()
        if self.answerer.voice is not None:
            self.answerer.voice.close()
        self.telemetry.close()
        self.stores.close()


def build_services(
    config: Config,
    *,
    stores: Stores | None = None,
    stream: StreamApi | None = None,
    provider: Provider | None = None,
    telemetry: Telemetry | None = None,
) -> Services:
    telemetry = telemetry or Telemetry.from_config(config)
    stores = stores or open_stores(with_pool_size(config.database_url, config.concurrency))
    stream = stream or StreamApi.from_config(config, limits=stores.limits, telemetry=telemetry)
    costs = build_costs(config, stores, telemetry)
    # Every model call is metered, the one given (tests) as much as the configured chain:
    # the accountant may refuse it and bills it; telemetry measures and traces it.
    observer = Observers(costs.accountant, telemetry.model_calls)
    provider = provider or build_provider(config, observer)
    metered = provider if isinstance(provider, MeteredProvider | FallbackProvider) \
        else MeteredProvider(provider, observer)
    redactor = Redactor(config.safety.redact)
    # Outside the metering: the accountant's estimates, telemetry and every fallback
    # candidate see only the redacted request, and nothing reaches a provider unredacted.
    sent = RedactingProvider(metered, redactor) if redactor.enabled else metered
    prompts = Prompts.from_config(config, stores.settings)
    slots = Slots(config.concurrency)
    answerer = Answerer(config, stream, sent, stores.jobs, stores.conversations, prompts,
                        toolbox=build_toolbox(config), quotas=costs.quotas,
                        accountant=costs.accountant,
                        cache=AnswerCache(stores.answers, config.cache_ttl),
                        telemetry=telemetry, redactor=redactor, audit=stores.audit,
                        moderation=Moderation.from_config(config, redactor, provider),
                        settings=stores.settings,
                        order=TurnOrder(stores.turn_order, stores.jobs, slots=slots),
                        watcher=stop_watcher(config, stores.jobs), voice=build_voice(config))

    def run_answer(payload: dict[str, Any]) -> None:
        with telemetry.job(payload):  # the webhook's trace and correlation id, continued
            answerer.run(AnswerJob.from_payload(payload))

    queue = JobQueue(open_huey(with_pool_size(config.queue_url, config.concurrency)), run_answer)
    return Services(config, stores, stream, provider, answerer, queue, prompts, costs,
                    telemetry, redactor, slots)


def stop_watcher(config: Config, jobs: JobStore) -> ChannelWatcher:
    """The bot's WebSocket, where Stream delivers the Stop button (`ai_indicator.stop`) to
    watchers of the channel; a Stop is recorded like `/gpt stop`. No thread starts before
    the first answer, so forking processes (gunicorn, the worker) is safe."""
    def on_stop(signal: StopSignal) -> None:
        if record_stop(jobs, signal.cid, signal.parent_id, signal.message_id):
            log.info("stop requested for %s on the bot's WebSocket", signal.cid)

    return ChannelWatcher(config.stream_chat_url, config.stream_api_key,
                          config.stream_api_secret, config.bot_user_id, on_stop)


def build_voice(config: Config) -> VoiceService:
    """Hearing and speaking as GPTBOT_VOICE says; an engine that cannot run is left out,
    its reason logged once (by VoiceService.build) and kept in `.problems`."""
    return VoiceService.build(config.voice, transcript_cache(config),
                              stream_chat_url=config.stream_chat_url,
                              openai_base_url=config.openai_base_url,
                              openai_api_key=config.openai_api_key)


def transcript_cache(config: Config) -> TranscriptCache:
    """Beside the data: a SQLite file, or in memory where the data is in Redis (a shared
    host need not have a disk of its own)."""
    if config.database_url.startswith(("redis://", "rediss://")) or not config.voice.enabled:
        return MemoryTranscriptCache()
    return SqliteTranscriptCache(config.data_dir / "voice.db")


@dataclass(frozen=True)
class Costs:
    prices: PriceTable
    quotas: Quotas
    accountant: Accountant


def build_costs(config: Config, stores: Stores, telemetry: Telemetry | None = None) -> Costs:
    prices = PriceTable.load(config.prices_file)
    quotas = Quotas(config.limits, stores.limits, Periods(parse_timezone(config.limits.timezone)))
    accountant = Accountant(prices, quotas, stores.ledger, config.max_tokens,
                            telemetry=telemetry)
    return Costs(prices, quotas, accountant)
