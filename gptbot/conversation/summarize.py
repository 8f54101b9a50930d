"""Asking the model for summaries: of folded-away conversation turns, and of a channel."""

from __future__ import annotations

from gptbot.core.errors import GptBotError
from gptbot.core.steps import Step
from gptbot.core.types import ChatMessage, ChatRequest, Turn
from gptbot.llm.generation import generate
from gptbot.llm.providers import Provider
from gptbot.llm.tokens import clip_to_tokens, estimate_tokens

OVERHEAD = 32  # message framing and the line introducing the transcript

FOLD_PROMPT = (
    "You keep the running memory of a group-chat conversation between people and an AI "
    "assistant. Merge the earlier summary (if any) and the new messages into one summary "
    "of at most {words} words. Keep facts, decisions, names, numbers, open questions and "
    "stated preferences that later questions may refer to; drop greetings and filler. "
    "Write only the summary, in the language of the conversation."
)
CHANNEL_PROMPT = (
    "You summarize chat conversations for people who missed them. Write a short summary of "
    "the messages below: the main topics, decisions, open questions and who is doing what. "
    "Use a few bullet points; mention people by name. Do not invent anything."
)


class NothingToSummarize(GptBotError):
    user_message = "There are no messages here to summarize yet."


class _Collector:
    """A text sink that only keeps the text: summaries are not shown while written."""

    def __init__(self) -> None:
        self.text = ""

    def add(self, delta: str) -> None:
        self.text += delta

    def set_state(self, state: str, message: str = "") -> None:
        pass

    def show_step(self, step: Step) -> None:
        pass


def complete(provider: Provider, request: ChatRequest) -> str:
    """The model's whole answer as one string (a non-streamed use of the stream)."""
    return generate(provider, request, _Collector()).text.strip()


def turn_lines(turns: list[Turn]) -> list[str]:
    return [
        line for t in turns for line in (f"{t.user_name}: {t.question}", f"Assistant: {t.answer}")
    ]


def fold_request(
    model: str, previous: str, turns: list[Turn], max_tokens: int, window: int
) -> ChatRequest:
    """Earlier summary + turns → one new summary of at most max_tokens tokens.

    Folding is rare, so it may use the model's whole window, not just the prompt budget.
    """
    system = FOLD_PROMPT.format(words=max(20, max_tokens * 2 // 3))
    head = f"Earlier summary:\n{previous}\n\n" if previous else ""
    # Only after a switch to a smaller model can the fold input itself be too long.
    room = window - max_tokens - estimate_tokens(system + head) - OVERHEAD
    lines = clip_to_tokens(turn_lines(turns), room)
    content = head + "New messages:\n" + "\n".join(lines)
    return ChatRequest(
        model, (ChatMessage("system", system), ChatMessage("user", content)), max_tokens=max_tokens
    )


def channel_request(model: str, lines: list[str], max_tokens: int, budget: int) -> ChatRequest:
    kept = clip_to_tokens(lines, budget - estimate_tokens(CHANNEL_PROMPT) - OVERHEAD)
    if not kept:
        raise NothingToSummarize("no messages with text in the range asked for")
    content = f"The last {len(kept)} messages, oldest first:\n" + "\n".join(kept)
    messages = (ChatMessage("system", CHANNEL_PROMPT), ChatMessage("user", content))
    return ChatRequest(model, messages, max_tokens=max_tokens)
