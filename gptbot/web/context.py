"""What the command handlers use inside the webhook's 1 s budget, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from gptbot.config import Config
from gptbot.conversation.prompts import Prompts
from gptbot.costs.quotas import Quotas
from gptbot.jobs.in_order import TurnOrder
from gptbot.jobs.queue import JobQueue
from gptbot.store import (
    AuditStore,
    ConversationStore,
    FeedbackStore,
    JobStore,
    LedgerStore,
    SettingsStore,
)
from gptbot.stream.api import StreamApi


@dataclass(frozen=True)
class CommandContext:
    config: Config
    jobs: JobStore
    conversations: ConversationStore
    prompts: Prompts
    queue: JobQueue
    quotas: Quotas
    unpriced_model: str = ""  # the configured model, when the price table lacks it
    audit: AuditStore | None = None  # forget-me; None until web/app.py passes them
    ledger: LedgerStore | None = None
    settings: SettingsStore | None = None  # handoffs: `/gpt human`, `/gpt resume`
    stream: StreamApi | None = None  # `/gpt human` looks up the operators from the webhook
    feedback: FeedbackStore | None = None  # `/gpt usage all` shows the share of 👍
    order: TurnOrder | None = None  # each answer job takes its place in its conversation
