"""The doctor's check graph, in dependency order, and the entry points that run it.

    configuration
    Stream API → Stream credentials → bot user → /gpt command → channel type 'x' (each)
                                                                      ↓
    public URL (GPTBOT_PUBLIC_URL or ngrok) ─────────────────→ webhook URL → event hooks
    language model → fallback provider:model (each; on the primary's provider only)
    store → job queue      concurrency      open files      deprecated settings
    limits      prices      language model → moderation (openai, on the primary's key)

startup.py runs only the first two Stream links, for `gptbot serve` and `gptbot setup`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gptbot.config import Config
from gptbot.core.errors import GptBotError
from gptbot.diagnosis import concurrency_checks as workers
from gptbot.diagnosis import cost_checks as costs
from gptbot.diagnosis import infra_checks as infra
from gptbot.diagnosis import model_checks as models
from gptbot.diagnosis import safety_checks as safety
from gptbot.diagnosis import stream_checks as stream
from gptbot.diagnosis import voice_checks
from gptbot.diagnosis import webhook_checks as hooks
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.fallback_checks import fallback_checks
from gptbot.diagnosis.graph import Check, Context, Diagnosis, Result, failed, run

CONFIGURATION = "configuration"
EVENT_HOOKS = "event hooks"


def stream_checks(config: Config) -> list[Check]:
    command = f"/{config.command} command"
    types = [f"channel type {name!r}" for name in config.channel_types]
    return [
        Check(stream.REACH, stream.reach),
        Check(stream.CREDENTIALS, stream.credentials, (stream.REACH,)),
        Check(stream.BOT_USER, stream.bot_user, (stream.CREDENTIALS,)),
        Check(command, stream.command, (stream.BOT_USER,)),
        *(Check(label, stream.channel_type(name), (command,))
          for label, name in zip(types, config.channel_types, strict=True)),
        Check(hooks.PUBLIC_URL, hooks.public_url),
        Check(hooks.WEBHOOK, hooks.webhook, (stream.CREDENTIALS, *types, hooks.PUBLIC_URL)),
        Check(EVENT_HOOKS, hooks.event_hooks, (hooks.WEBHOOK,)),
    ]


def runtime_checks(config: Config) -> list[Check]:
    # One Redis for both: when the store cannot open, the queue's failure is the same one.
    same_redis = ("store",) if config.queue_url == config.database_url else ()
    return [
        Check(models.MODEL, models.model),
        *fallback_checks(config),
        Check("store", infra.store),
        Check("job queue", infra.queue, same_redis),
        Check("concurrency", workers.concurrency),
        Check("open files", workers.open_files),
        Check("worker processes", workers.worker_processes),
        Check("deprecated settings", workers.deprecated_settings),
        Check("limits", costs.limits),
        Check("prices", costs.prices),
        *moderation_checks(config),
        Check("voice", voice_checks.voice),
    ]


def moderation_checks(config: Config) -> list[Check]:
    """With GPTBOT_MODERATION=openai on the primary's OpenAI key, a rejected key is the
    language model's failure first: moderation waits for it rather than repeat it."""
    if not safety.wants_moderation(config):
        return []
    openai = "openai" in config.safety.moderation and config.provider == "openai"
    return [Check("moderation", safety.moderation, (models.MODEL,) if openai else ())]


def diagnose(environ: Mapping[str, str] | None = None, port: int | None = None,
             timeout: float = 5.0) -> Diagnosis:
    """Every check, in order; a configuration that does not load stops here."""
    try:
        config = Config.from_env(environ)
    except GptBotError as exc:
        return Diagnosis((_config_failure(exc),))
    ok = Result(CONFIGURATION, "ok", f"provider {config.provider}, model {config.model}")
    context = Context(config, port, timeout, environ=os.environ if environ is None else environ)
    checks = stream_checks(config) + runtime_checks(config)
    return Diagnosis((ok, *run(checks, context).results))


def _config_failure(exc: GptBotError) -> Result:
    return failed(Check(CONFIGURATION, lambda _: ""), Problem("config.invalid", error=str(exc)))
