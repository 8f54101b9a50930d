"""The types every layer shares: chat messages and requests, tool calls, conversation turns.

Owns plain data only. Imports nothing but the standard library (checked by import-linter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One finished tool call; `arguments` is the raw concatenated string (maybe not JSON)."""

    index: int
    id: str | None
    name: str | None
    arguments: str
    signature: str | None = None  # see ToolCallDelta.signature


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is a JSON-schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation.

    role "assistant" may carry the `tool_calls` it made; role "tool" carries one call's
    result in `content`, with the call's id and the tool's name (Gemini and Ollama match
    results by name, the others by id).
    """

    role: str  # "system", "user", "assistant" or "tool"
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CallTag:
    """Whom a model call is for, so its usage is counted and billed to them.

    Travels with the request through fallback and tool rounds; never sent to a provider.
    """

    reply_id: str
    user_id: str
    channel: str  # the channel's cid, "type:id"
    purpose: str = "answer"  # answer | summary | tool_round | fallback
    exempt: bool = False  # an admin: per-user and per-channel limits do not apply


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    tag: CallTag | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One `/gpt` exchange in a conversation; `id` is the reply id, so a re-run overwrites."""

    id: str
    asked_at: float
    user_id: str
    user_name: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """What is remembered: a summary of folded-away turns, then the turns, oldest first."""

    summary: str = ""
    turns: list[Turn] = field(default_factory=list)


