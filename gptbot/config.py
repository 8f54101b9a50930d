"""Settings, read from the environment in exactly one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gptbot.core.errors import ConfigError

DEFAULT_NGROK_API = "http://127.0.0.1:4040/api/tunnels"
# Used when GPTBOT_MODEL is unset. Azure has none: there the model is your deployment name.
EVENTS_PATH = "/webhooks/stream-events"  # served by gptbot.web, registered by gptbot.stream
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "gemini": "gemini-2.0-flash",
    "ollama": "llama3.2",
}


@dataclass(frozen=True)
class CostLimits:
    """Caps on use and spend (0 = off). Checked in the webhook and before each model call."""

    user_daily: int = 50  # commands per user per day
    channel_daily: int = 0  # commands per channel per day
    user_daily_usd: float = 0.0
    channel_daily_usd: float = 0.0
    app_daily_usd: float = 0.0
    app_monthly_usd: float = 0.0
    timezone: str = "UTC"  # where "today" and "this month" end
    exempt_admins: bool = True  # from the per-user and per-channel limits, never the app's

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CostLimits:
        return cls(
            user_daily=_int(env, "GPTBOT_USER_DAILY_LIMIT", 50, minimum=0),
            channel_daily=_int(env, "GPTBOT_CHANNEL_DAILY_LIMIT", 0, minimum=0),
            user_daily_usd=_usd(env, "GPTBOT_USER_DAILY_BUDGET_USD"),
            channel_daily_usd=_usd(env, "GPTBOT_CHANNEL_DAILY_BUDGET_USD"),
            app_daily_usd=_usd(env, "GPTBOT_DAILY_BUDGET_USD"),
            app_monthly_usd=_usd(env, "GPTBOT_MONTHLY_BUDGET_USD"),
            timezone=_timezone(_get(env, "GPTBOT_TIMEZONE") or "UTC"),
            exempt_admins=_bool(env, "GPTBOT_LIMITS_EXEMPT_ADMINS", True),
        )


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
    workers: int = 4
    update_interval: float = 0.5
    llm_connect_timeout: float = 10.0
    llm_idle_timeout: float = 60.0
    llm_max_retries: int = 4
    max_message_length: int = 5000
    max_body_bytes: int = 256 * 1024
    embedded_worker: bool = True
    log_level: str = "INFO"
    limits: CostLimits = field(default_factory=CostLimits)
    prices_file: str | None = None  # GPTBOT_PRICES: a TOML file that adds or replaces prices
    ledger_days: int = 400  # usage rows older than this are pruned
    # Stream's per-app limits are 1,000 message writes and 10,000 events a minute: stay under.
    stream_writes_per_min: int = 900
    stream_events_per_min: int = 9000
    cache_ttl: int = 0  # seconds a first-turn answer may be reused; 0 = no response cache

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        data_dir = Path(_get(env, "GPTBOT_DATA_DIR") or "data")
        database_url = _get(env, "GPTBOT_DATABASE_URL") or f"sqlite:///{data_dir / 'gptbot.db'}"
        provider = _get(env, "GPTBOT_PROVIDER") or "openai"
        return cls(
            stream_api_key=_required(env, "STREAM_API_KEY"),
            stream_api_secret=_required(env, "STREAM_API_SECRET"),
            stream_chat_url=_get(env, "STREAM_CHAT_URL"),
            public_url=_get(env, "GPTBOT_PUBLIC_URL"),
            ngrok_api_url=_get(env, "GPTBOT_NGROK_API_URL") or DEFAULT_NGROK_API,
            provider=provider,
            model=_get(env, "GPTBOT_MODEL") or DEFAULT_MODELS.get(provider, ""),
            openai_api_key=_get(env, "OPENAI_API_KEY"),
            openai_base_url=_get(env, "OPENAI_BASE_URL") or cls.openai_base_url,
            azure_endpoint=_get(env, "AZURE_OPENAI_ENDPOINT"),
            azure_api_key=_get(env, "AZURE_OPENAI_API_KEY"),
            azure_api_version=_get(env, "OPENAI_API_VERSION") or cls.azure_api_version,
            anthropic_api_key=_get(env, "ANTHROPIC_API_KEY"),
            anthropic_base_url=_get(env, "ANTHROPIC_BASE_URL") or cls.anthropic_base_url,
            gemini_api_key=_get(env, "GEMINI_API_KEY") or _get(env, "GOOGLE_API_KEY"),
            gemini_base_url=_get(env, "GEMINI_BASE_URL") or cls.gemini_base_url,
            ollama_host=_ollama_host(_get(env, "OLLAMA_HOST")),
            fallback=_csv(_get(env, "GPTBOT_FALLBACK") or ""),
            tool_modules=_csv(_get(env, "GPTBOT_TOOLS") or ""),
            max_tool_rounds=_int(env, "GPTBOT_MAX_TOOL_ROUNDS", 4, minimum=0),
            tool_timeout=float(_int(env, "GPTBOT_TOOL_TIMEOUT", 10, minimum=1)),
            max_tokens=_int(env, "GPTBOT_MAX_TOKENS", 1024, minimum=16),
            local_model=_get(env, "GPTBOT_LOCAL_MODEL") or "",
            local_model_dir=_get(env, "GPTBOT_LOCAL_MODEL_DIR"),
            bot_user_id=_get(env, "GPTBOT_BOT_USER_ID") or "gpt-bot",
            bot_name=_get(env, "GPTBOT_BOT_NAME") or "GPT",
            channel_types=_csv(_get(env, "GPTBOT_CHANNEL_TYPES") or "messaging"),
            system_prompt=_get(env, "GPTBOT_SYSTEM_PROMPT") or cls.system_prompt,
            system_prompt_file=_get(env, "GPTBOT_SYSTEM_PROMPT_FILE"),
            admins=_csv(_get(env, "GPTBOT_ADMINS") or ""),
            context_tokens=_int(env, "GPTBOT_CONTEXT_TOKENS", 0, minimum=0),
            prompt_tokens=_int(env, "GPTBOT_PROMPT_TOKENS", 16000, minimum=0),
            channel_context=min(_int(env, "GPTBOT_CHANNEL_CONTEXT", 0, minimum=0), 300),
            data_dir=data_dir,
            database_url=database_url,
            queue_url=_get(env, "GPTBOT_QUEUE_URL") or _default_queue_url(database_url, data_dir),
            workers=_int(env, "GPTBOT_WORKERS", 4, minimum=1),
            update_interval=_int(env, "GPTBOT_UPDATE_INTERVAL_MS", 500, minimum=50) / 1000,
            llm_idle_timeout=float(_int(env, "GPTBOT_LLM_IDLE_TIMEOUT", 60, minimum=1)),
            max_message_length=_int(env, "GPTBOT_MAX_MESSAGE_LENGTH", 5000, minimum=100),
            embedded_worker=_bool(env, "GPTBOT_EMBEDDED_WORKER", True),
            log_level=(_get(env, "GPTBOT_LOG_LEVEL") or "INFO").upper(),
            limits=CostLimits.from_env(env),
            prices_file=_get(env, "GPTBOT_PRICES"),
            ledger_days=_int(env, "GPTBOT_LEDGER_DAYS", 400, minimum=1),
            stream_writes_per_min=_int(env, "GPTBOT_STREAM_WRITES_PER_MIN", 900, minimum=10),
            stream_events_per_min=_int(env, "GPTBOT_STREAM_EVENTS_PER_MIN", 9000, minimum=10),
            cache_ttl=_int(env, "GPTBOT_CACHE_TTL", 0, minimum=0),
        )

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

    def events_url(self, public_url: str) -> str:
        """The URL Stream's event hook posts `ai_indicator.stop` to (the Stop button)."""
        return public_url.rstrip("/") + EVENTS_PATH


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _required(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if value is None:
        raise ConfigError(f"{name} is not set: add it to the environment or to .env")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _usd(env: Mapping[str, str], name: str) -> float:
    raw = _get(env, name)
    if raw is None:
        return 0.0
    try:
        value = float(raw.removeprefix("$"))
    except ValueError:
        raise ConfigError(
            f"{name} must be an amount in US dollars, like 5 or 0.50, not {raw!r}"
        ) from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be 0 (off) or a positive amount, not {raw!r}")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"GPTBOT_TIMEZONE {name!r} is not a time zone: use an IANA name such as "
            "UTC, Europe/Berlin or America/New_York"
        ) from None
    return name


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


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
