"""Settings, read from the environment in exactly one place: `Config.from_env`.

Owns the frozen `Config`, its parts (`limits.CostLimits`) and the parsers (`env`).
May import: gptbot.core only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gptbot.config.env import bool_setting, csv_setting, get, int_setting, required
from gptbot.config.feedback import FeedbackSettings
from gptbot.config.limits import CostLimits
from gptbot.config.safety import SafetySettings
from gptbot.config.voice import VoiceConfig
from gptbot.core.errors import ConfigError

DEFAULT_NGROK_API = "http://127.0.0.1:4040/api/tunnels"
WORKERS_DEPRECATED = ("GPTBOT_WORKERS is deprecated: it now sets GPTBOT_CONCURRENCY, the answers "
                      "one worker process streams at once (default 256); rename it")
# Used when GPTBOT_MODEL is unset. Azure has none: there the model is your deployment name.
EVENTS_PATH = "/webhooks/stream-events"  # served by gptbot.web, registered by gptbot.stream
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "gemini": "gemini-2.0-flash",
    "ollama": "llama3.2",
}


@dataclass(frozen=True)
class Config:
    stream_api_key: str
    stream_api_secret: str = field(repr=False)
    # Passed to the SDK as base_url only when set: the SDK reads the same variable itself.
    stream_chat_url: str | None = None
    public_url: str | None = None
    ngrok_api_url: str = DEFAULT_NGROK_API
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str = "https://api.openai.com/v1"
    azure_endpoint: str | None = None
    azure_api_key: str | None = field(default=None, repr=False)
    azure_api_version: str = "2024-10-21"
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str = "https://api.anthropic.com"
    gemini_api_key: str | None = field(default=None, repr=False)
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    ollama_host: str = "http://127.0.0.1:11434"
    # "provider:model" pairs tried in order when the primary fails before its first token.
    fallback: tuple[str, ...] = ()
    tool_modules: tuple[str, ...] = ()
    max_tool_rounds: int = 4
    tool_timeout: float = 10.0
    show_reasoning: bool = False  # the model's reasoning as an ai_reasoning attachment
    max_tokens: int = 1024
    # The embedded model (`gptbot dev`): "" = best installed, a model name, or a .gguf path.
    local_model: str = ""
    local_model_dir: str | None = None
    bot_user_id: str = "gpt-bot"
    bot_name: str = "GPT"
    command: str = "gpt"
    channel_types: tuple[str, ...] = ("messaging",)
    system_prompt: str = "You are a helpful assistant in a group chat. Answer concisely."
    system_prompt_file: str | None = None
    admins: tuple[str, ...] = ()
    # 0 = look the model's context window up in a table (gptbot/tokens.py).
    context_tokens: int = 0
    # Cost cap on one prompt; 0 = only the model's window limits it.
    prompt_tokens: int = 16000
    # Recent regular channel messages included as context; 0 = off.
    channel_context: int = 0
    data_dir: Path = Path("data")
    database_url: str = ""
    queue_url: str = ""
    # Answers one worker process streams at once (GPTBOT_CONCURRENCY): bounded by memory
    # and Stream's and the provider's limits, not by threads.
    concurrency: int = 256
    # Worker children `gptbot serve` starts (GPTBOT_WORKER_PROCESSES); 0 = one per CPU core
    # (gevent runs one process's answers on one core).
    worker_processes: int = 0
    # Intermediate updates one process sends per second, all answers together (CPU, not
    # Stream's limit): past it each answer's updates come further apart.
    process_updates_per_s: int = 200
    update_interval: float = 0.5
    llm_connect_timeout: float = 10.0
    llm_idle_timeout: float = 60.0
    llm_max_retries: int = 4
    max_message_length: int = 5000
    max_body_bytes: int = 256 * 1024
    embedded_worker: bool = True
    # Where `gptbot serve` runs its worker: "process" (a child `gptbot worker`, off the web
    # threads' GIL) or "thread" (inside each web process, as tests and `gptbot dev` may want).
    embedded_worker_mode: str = "process"
    log_level: str = "INFO"
    limits: CostLimits = field(default_factory=CostLimits)
    prices_file: str | None = None  # GPTBOT_PRICES: a TOML file that adds or replaces prices
    ledger_days: int = 400  # usage rows older than this are pruned
    # Stream's per-app limits are 1,000 message writes and 10,000 events a minute: stay under.
    stream_writes_per_min: int = 900
    stream_events_per_min: int = 9000
    cache_ttl: int = 0  # seconds a first-turn answer may be reused; 0 = no response cache
    log_format: str = "text"  # or "json": one object per line, with the command's id
    # A running job renews its lease from a heartbeat; a dead worker's jobs re-run after this.
    job_lease_s: float = 15.0
    job_max_attempts: int = 5  # then the job is parked as failed, with its reason
    shutdown_grace_s: float = 25.0  # SIGTERM: running answers may finish this long
    otel_endpoint: str | None = None  # OTEL_EXPORTER_OTLP_ENDPOINT: traces go there when set
    otel_capture_content: bool = False  # message text in spans only when explicitly asked
    safety: SafetySettings = field(default_factory=SafetySettings)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    voice: VoiceConfig = field(default_factory=VoiceConfig)  # GPTBOT_VOICE* (config/voice.py)
    # Settings that still work but are on their way out: logged at start-up.
    deprecations: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        groups = (_stream_settings, _model_settings, _conversation_settings,
                  _runtime_settings, _cost_settings)
        return cls(**{name: value for group in groups for name, value in group(env).items()})

    @property
    def webhook_path(self) -> str:
        return "/webhooks/stream"

    def handler_url(self, public_url: str) -> str:
        """The URL Stream calls; `{type}` is Stream's own placeholder for the command name."""
        return public_url.rstrip("/") + self.webhook_path + "/{type}"

    def model_chain(self) -> list[tuple[str, str]]:
        """(provider, model) of the primary and each GPTBOT_FALLBACK entry, in order; a
        fallback model may itself contain colons (ollama:llama3.2:3b)."""
        chain = [(self.provider, self.model)]
        for entry in self.fallback:
            name, _, model = (part.strip() for part in entry.partition(":"))
            chain.append((name, model or DEFAULT_MODELS.get(name, "")))
        return chain

    @property
    def worker_children(self) -> int:
        """How many `gptbot worker` children `gptbot serve` runs: the setting, or one per
        core this process may use."""
        return self.worker_processes or len(os.sched_getaffinity(0))

    def events_url(self, public_url: str) -> str:
        """The URL Stream's event hook posts `ai_indicator.stop` to (the Stop button)."""
        return public_url.rstrip("/") + EVENTS_PATH


def _log_format(env: Mapping[str, str]) -> str:
    """text on a terminal, JSON lines otherwise (a platform's log collector)."""
    raw = (get(env, "GPTBOT_LOG_FORMAT") or "").lower()
    if raw in ("text", "json"):
        return raw
    if raw:
        raise ConfigError(f"GPTBOT_LOG_FORMAT must be text or json, not {raw!r}")
    return "text" if sys.stderr.isatty() else "json"


def _ollama_host(raw: str | None) -> str:
    """Ollama's own convention: OLLAMA_HOST may be a bare host:port."""
    if not raw:
        return Config.ollama_host
    return raw if "://" in raw else f"http://{raw}"


def _default_queue_url(database_url: str, data_dir: Path) -> str:
    """Jobs live beside the data: Redis when the data does, else a SQLite file."""
    if database_url.startswith(("redis://", "rediss://")):
        return database_url
    return f"sqlite:///{data_dir / 'jobs.db'}"


def _stream_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "stream_api_key": required(env, "STREAM_API_KEY"),
        "stream_api_secret": required(env, "STREAM_API_SECRET"),
        "stream_chat_url": get(env, "STREAM_CHAT_URL"),
        "public_url": get(env, "GPTBOT_PUBLIC_URL"),
        "ngrok_api_url": get(env, "GPTBOT_NGROK_API_URL") or DEFAULT_NGROK_API,
        "bot_user_id": get(env, "GPTBOT_BOT_USER_ID") or "gpt-bot",
        "bot_name": get(env, "GPTBOT_BOT_NAME") or "GPT",
        "channel_types": csv_setting(get(env, "GPTBOT_CHANNEL_TYPES") or "messaging"),
        "stream_writes_per_min": int_setting(env, "GPTBOT_STREAM_WRITES_PER_MIN", 900, minimum=10),
        "stream_events_per_min": int_setting(env, "GPTBOT_STREAM_EVENTS_PER_MIN", 9000, minimum=10),
    }


def _model_settings(env: Mapping[str, str]) -> dict[str, Any]:
    provider = get(env, "GPTBOT_PROVIDER") or "openai"
    return {
        "provider": provider,
        "model": get(env, "GPTBOT_MODEL") or DEFAULT_MODELS.get(provider, ""),
        "openai_api_key": get(env, "OPENAI_API_KEY"),
        "openai_base_url": get(env, "OPENAI_BASE_URL") or Config.openai_base_url,
        "azure_endpoint": get(env, "AZURE_OPENAI_ENDPOINT"),
        "azure_api_key": get(env, "AZURE_OPENAI_API_KEY"),
        "azure_api_version": get(env, "OPENAI_API_VERSION") or Config.azure_api_version,
        "anthropic_api_key": get(env, "ANTHROPIC_API_KEY"),
        "anthropic_base_url": get(env, "ANTHROPIC_BASE_URL") or Config.anthropic_base_url,
        "gemini_api_key": get(env, "GEMINI_API_KEY") or get(env, "GOOGLE_API_KEY"),
        "gemini_base_url": get(env, "GEMINI_BASE_URL") or Config.gemini_base_url,
        "ollama_host": _ollama_host(get(env, "OLLAMA_HOST")),
        "fallback": csv_setting(get(env, "GPTBOT_FALLBACK") or ""),
        "tool_modules": csv_setting(get(env, "GPTBOT_TOOLS") or ""),
        "max_tool_rounds": int_setting(env, "GPTBOT_MAX_TOOL_ROUNDS", 4, minimum=0),
        "tool_timeout": float(int_setting(env, "GPTBOT_TOOL_TIMEOUT", 10, minimum=1)),
        "show_reasoning": bool_setting(env, "GPTBOT_SHOW_REASONING", False),
        "max_tokens": int_setting(env, "GPTBOT_MAX_TOKENS", 1024, minimum=16),
        "local_model": get(env, "GPTBOT_LOCAL_MODEL") or "",
        "local_model_dir": get(env, "GPTBOT_LOCAL_MODEL_DIR"),
    }


def _conversation_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "system_prompt": get(env, "GPTBOT_SYSTEM_PROMPT") or Config.system_prompt,
        "system_prompt_file": get(env, "GPTBOT_SYSTEM_PROMPT_FILE"),
        "admins": csv_setting(get(env, "GPTBOT_ADMINS") or ""),
        "context_tokens": int_setting(env, "GPTBOT_CONTEXT_TOKENS", 0, minimum=0),
        "prompt_tokens": int_setting(env, "GPTBOT_PROMPT_TOKENS", 16000, minimum=0),
        "channel_context": min(int_setting(env, "GPTBOT_CHANNEL_CONTEXT", 0, minimum=0), 300),
        "update_interval": int_setting(env, "GPTBOT_UPDATE_INTERVAL_MS", 500, minimum=50) / 1000,
        "llm_idle_timeout": float(int_setting(env, "GPTBOT_LLM_IDLE_TIMEOUT", 60, minimum=1)),
        "max_message_length": int_setting(env, "GPTBOT_MAX_MESSAGE_LENGTH", 5000, minimum=100),
        "cache_ttl": int_setting(env, "GPTBOT_CACHE_TTL", 0, minimum=0),
    }


def _runtime_settings(env: Mapping[str, str]) -> dict[str, Any]:
    data_dir = Path(get(env, "GPTBOT_DATA_DIR") or "data")
    database_url = get(env, "GPTBOT_DATABASE_URL") or f"sqlite:///{data_dir / 'gptbot.db'}"
    return {
        "data_dir": data_dir,
        "database_url": database_url,
        "queue_url": get(env, "GPTBOT_QUEUE_URL") or _default_queue_url(database_url, data_dir),
        **_worker_settings(env),
        "log_level": (get(env, "GPTBOT_LOG_LEVEL") or "INFO").upper(),
        "log_format": _log_format(env),
        "job_lease_s": float(int_setting(env, "GPTBOT_JOB_LEASE_S", 15, minimum=5)),
        "job_max_attempts": int_setting(env, "GPTBOT_JOB_MAX_ATTEMPTS", 5, minimum=1),
        "shutdown_grace_s": float(int_setting(env, "GPTBOT_SHUTDOWN_GRACE_S", 25, minimum=0)),
        "otel_endpoint": get(env, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "otel_capture_content": bool_setting(
                env, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", False
            ),
    }


def _worker_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """GPTBOT_CONCURRENCY, or the old thread count GPTBOT_WORKERS in its place (with a
    deprecation logged), and where `gptbot serve` runs the worker."""
    concurrency = int_setting(env, "GPTBOT_CONCURRENCY", 256, minimum=1)
    deprecations: tuple[str, ...] = ()
    if get(env, "GPTBOT_WORKERS") is not None:
        old = int_setting(env, "GPTBOT_WORKERS", 4, minimum=1)
        deprecations = (WORKERS_DEPRECATED,)
        concurrency = concurrency if get(env, "GPTBOT_CONCURRENCY") else old
    enabled, mode = _embedded_worker(env)
    return {"concurrency": concurrency, "embedded_worker": enabled,
            "worker_processes": int_setting(env, "GPTBOT_WORKER_PROCESSES", 0, minimum=0),
            "process_updates_per_s": int_setting(env, "GPTBOT_PROCESS_UPDATES_PER_S", 200,
                                                 minimum=1),
            "embedded_worker_mode": mode, "deprecations": deprecations}


def _embedded_worker(env: Mapping[str, str]) -> tuple[bool, str]:
    """true means "process"; "thread" keeps the worker inside each web process."""
    raw = (get(env, "GPTBOT_EMBEDDED_WORKER") or "process").lower()
    if raw in ("process", "thread"):
        return True, raw
    try:
        return bool_setting(env, "GPTBOT_EMBEDDED_WORKER", True), "process"
    except ConfigError:
        raise ConfigError("GPTBOT_EMBEDDED_WORKER must be true (a child process), process, "
                          f"thread or false, not {raw!r}") from None


def _cost_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "safety": SafetySettings.from_env(env),
        "feedback": FeedbackSettings.from_env(env),
        "voice": VoiceConfig.from_env(env),
        "limits": CostLimits.from_env(env),
        "prices_file": get(env, "GPTBOT_PRICES"),
        "ledger_days": int_setting(env, "GPTBOT_LEDGER_DAYS", 400, minimum=1),
    }
