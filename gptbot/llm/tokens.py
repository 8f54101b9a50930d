"""Token counting offline, and how many tokens a prompt may use.

No tokenizer ships inside a wheel for every provider (tiktoken downloads its BPE files
at run time; Anthropic's and Gemini's tokenizers are remote APIs), so counts here are a
conservative *estimate* that never needs the network: ASCII text at 3 characters per
token (real tokenizers average about 4 for English), every other UTF-8 byte at half a
token (so a CJK character counts 1.5, an emoji 2), plus a few tokens per message for
the chat format. Over-counting only means history is folded a little early.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gptbot.config import Config
from gptbot.core.types import ChatMessage

PER_MESSAGE = 4  # role markers and separators around each message
PER_REQUEST = 3  # the assistant's reply is primed with a few tokens
SAFETY_SHARE = 20  # keep 1/20 of the window free: estimates can be wrong for odd text
DEFAULT_CONTEXT = 8_192  # for models not in the table: small enough for nearly any model
OLLAMA_CONTEXT = 4_096  # Ollama's default num_ctx truncates silently beyond this
DEFAULT_PROMPT_CAP = 16_000  # input tokens per question, whatever the window: cost control
MIN_PROMPT = 512

# Context windows by model-name prefix; the first match wins, so longer prefixes come first.
CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-4.1", 1_047_576),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-5", 272_000),  # its input limit; the 400k window includes the output
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
    ("claude", 200_000),
    ("gemini-1.5", 1_048_576),
    ("gemini-2", 1_048_576),
    ("gemini", 32_768),
)


def estimate_tokens(text: str) -> int:
    ascii_chars = len(text.encode("ascii", "ignore"))
    other_bytes = len(text.encode("utf-8", "replace")) - ascii_chars
    return math.ceil(ascii_chars / 3 + other_bytes / 2)


def message_tokens(message: ChatMessage) -> int:
    return PER_MESSAGE + estimate_tokens(message.content)


def messages_tokens(messages: Iterable[ChatMessage]) -> int:
    return PER_REQUEST + sum(message_tokens(m) for m in messages)


def context_window(model: str, provider: str = "", override: int = 0) -> int:
    """The model's window: the setting when given, else the table, else a safe default."""
    if override > 0:
        return override
    if provider == "ollama":
        return OLLAMA_CONTEXT
    name = model.lower().rpartition("/")[2]  # "openai/gpt-4o" on OpenAI-compatible gateways
    for prefix, size in CONTEXT_WINDOWS:
        if name.startswith(prefix):
            return size
    return DEFAULT_CONTEXT


def usable_window(config: Config) -> int:
    """The configured model's window less a safety margin for estimation errors."""
    window = context_window(config.model, config.provider, config.context_tokens)
    return window - window // SAFETY_SHARE


def prompt_budget(config: Config) -> int:
    """Tokens a prompt may use: the window minus the answer's room and a margin, capped."""
    room = usable_window(config) - config.max_tokens
    cap = config.prompt_tokens
    if cap > 0:
        room = min(room, cap)
    return max(room, MIN_PROMPT)


def clip_to_tokens(lines: list[str], budget: int) -> list[str]:
    """The newest lines (the end of the list) whose estimated total fits the budget."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        used += estimate_tokens(line) + 1
        if used > budget:
            break
        kept.append(line)
    return kept[::-1]
