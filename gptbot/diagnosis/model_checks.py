"""The language model check: key set → key accepted → model known → provider reachable;
for the embedded model, installed. One tiny request (max_tokens=1) proves the rest."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gptbot.core.errors import ConfigError, ProviderAuthError, ProviderError, ProviderTimeout
from gptbot.core.events import StreamError
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.diagnosis.network import classify, mask
from gptbot.llm.providers import build_provider
from gptbot.local.weights import (
    PackagedModel,
    WeightsUnavailable,
    candidates,
    custom_weights,
    default_cache_dir,
    is_verified,
    locate_parts,
)

MODEL = "language model"


@dataclass(frozen=True)
class ProviderSettings:
    key_variable: str | None  # None: the provider needs no key (ollama, local)
    key_field: str | None
    base_variable: str
    base_field: str


SETTINGS = {
    "openai": ProviderSettings("OPENAI_API_KEY", "openai_api_key", "OPENAI_BASE_URL",
                               "openai_base_url"),
    "azure": ProviderSettings("AZURE_OPENAI_API_KEY", "azure_api_key", "AZURE_OPENAI_ENDPOINT",
                              "azure_endpoint"),
    "anthropic": ProviderSettings("ANTHROPIC_API_KEY", "anthropic_api_key",
                                  "ANTHROPIC_BASE_URL", "anthropic_base_url"),
    "gemini": ProviderSettings("GEMINI_API_KEY", "gemini_api_key", "GEMINI_BASE_URL",
                               "gemini_base_url"),
    "ollama": ProviderSettings(None, None, "OLLAMA_HOST", "ollama_host"),
}
# ProviderAuthError's text, as StreamingHttp words it: "HTTP 401 from host: detail".
_STATUS = re.compile(r"^HTTP (\d{3}) from (\S+): (.*)$", re.DOTALL)
_NOT_SET = re.compile(r"^([A-Z][A-Z0-9_]+) is not set")
_UNREACHABLE = ("cannot reach", "no response from")


def model(context: Context) -> str:
    # The primary alone, one attempt, the doctor's timeout: a diagnosis, not a retry loop.
    config = replace(context.config, fallback=(), llm_max_retries=1,
                     llm_connect_timeout=context.timeout)
    if config.provider == "local":
        return local_model(config)
    try:
        provider = build_provider(config)
        events = provider.stream(ChatRequest(config.model, (ChatMessage("user", "Say OK."),),
                                             max_tokens=1))
        first = next(iter(events), None)
    except ConfigError as exc:
        raise config_problem(exc, config) from exc
    except ProviderError as exc:
        raise provider_problem(exc, config, context.timeout) from exc
    if isinstance(first, StreamError):
        raise Problem("model.refused", host=_host(config), detail=first.message)
    return f"{config.provider} {config.model} answered"


def config_problem(exc: ConfigError, config: Any) -> Problem:
    """A ConfigError from building the provider: a missing key is the common one."""
    missing = _NOT_SET.match(str(exc))
    if missing:
        return Problem("model.key_missing", variable=missing.group(1), provider=config.provider)
    return Problem("model.config", error=str(exc))


def provider_problem(exc: ProviderError, config: Any, timeout: float) -> Problem:
    """exception → cause: pure, so each branch has its own test."""
    settings = SETTINGS.get(config.provider, SETTINGS["openai"])
    base = getattr(config, settings.base_field) or "?"
    text = str(exc)
    if isinstance(exc, ProviderTimeout) or text.startswith(_UNREACHABLE):
        return Problem("model.unreachable", base_url=base, base_variable=settings.base_variable,
                       reason=classify(exc, timeout).reason)
    status = _STATUS.match(text)
    if not isinstance(exc, ProviderAuthError) or status is None:
        return Problem("model.unavailable", detail=text[:200])
    return _refusal(int(status.group(1)), status.group(2), status.group(3)[:200], config,
                    settings)


def _refusal(status: int, host: str, detail: str, config: Any,
             settings: ProviderSettings) -> Problem:
    if status in (401, 403) and settings.key_variable:
        key = getattr(config, settings.key_field or "", None)
        return Problem("model.key_rejected", host=host, variable=settings.key_variable,
                       secret=mask(key), status=status, detail=detail)
    if _names_the_model(status, detail):
        return Problem("model.unknown", host=host, model=config.model, status=status,
                       detail=detail)
    if status == 404:
        return Problem("model.bad_url", host=host, status=status,
                       base_variable=settings.base_variable,
                       base_url=getattr(config, settings.base_field))
    return Problem("model.refused", host=host, detail=f"HTTP {status}, {detail}")


def _names_the_model(status: int, detail: str) -> bool:
    """OpenAI: 404 model_not_found; Anthropic, Gemini, Ollama: 404 (or 400) naming the model."""
    lowered = detail.lower()
    return status in (400, 404) and "model" in lowered and any(
        word in lowered for word in ("not found", "does not exist", "not_found", "unknown",
                                     "invalid model"))


def _host(config: Any) -> str:
    settings = SETTINGS.get(config.provider, SETTINGS["openai"])
    url = str(getattr(config, settings.base_field) or "")
    return urlsplit(url).netloc or url


def local_model(config: Any) -> str:
    """Installed is enough here: starting llama.cpp is `gptbot dev`'s job, not a check's."""
    if not runtime_installed():
        raise Problem("model.local_missing", detail="the xllamacpp runtime is not installed")
    cache = Path(config.local_model_dir) if config.local_model_dir else default_cache_dir()
    try:
        choices = candidates(config.local_model)
    except ConfigError as exc:
        raise Problem("model.config", error=str(exc)) from exc
    missing = []
    for candidate in choices:
        try:
            return f"embedded model {_installed(candidate, cache)} installed"
        except WeightsUnavailable as exc:
            missing.append(str(exc))
    raise Problem("model.local_missing", detail="; ".join(missing)[:300] or "none configured")


def runtime_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None  # found without importing it


def _installed(candidate: PackagedModel | Path, cache: Path) -> str:
    if isinstance(candidate, Path):
        return custom_weights(candidate).title
    if not is_verified(cache / candidate.filename, candidate.sha256):
        locate_parts(candidate)  # installed but not yet assembled: the first start does it
    return candidate.title
