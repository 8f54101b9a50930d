"""Decoder for the legacy ChatGPT web stream (chat.openai.com backend-api, 2022-2023).

Not a provider — gptbot never scrapes a website — but the stream the original Stream
bot parsed, decoded by the same event layer: each SSE `data:` carries the *whole*
message so far in `message.content.parts[0]`, so the decoder remembers what it has
emitted and turns each event into a TextDelta of the new suffix. Ends with `[DONE]`.

2022 events have `message.role`; 2023 ones `message.author.role`, a `status` and
`metadata.finish_details`, and the server also echoes the system and user messages,
which are skipped.
"""

from __future__ import annotations

from typing import Any

from gptbot.events import Finish, StreamError, StreamEvent, TextDelta
from gptbot.providers.openai_wire import is_done
from gptbot.providers.wire_common import load_object


class ChatGPTWebDecoder:
    """Feed it each SSE data payload in order; one instance per stream."""

    def __init__(self) -> None:
        self.text = ""  # the assistant text emitted so far

    def map(self, data: str) -> list[StreamEvent]:
        """Map one payload; raise ValueError if it is not a JSON object."""
        if is_done(data):
            return []
        event = load_object(data, "ChatGPT event")
        if event.get("error"):
            return [StreamError(str(event["error"]))]
        message = event.get("message")
        if not isinstance(message, dict) or _role(message) != "assistant":
            return []
        events = self._delta(_text(message))
        reason = _finish_reason(message)
        return [*events, Finish(reason)] if reason else events

    def _delta(self, text: str) -> list[StreamEvent]:
        # A cumulative message only grows; anything else (a rewrite) cannot be expressed
        # as a delta of what readers already saw, so it is ignored.
        if len(text) <= len(self.text) or not text.startswith(self.text):
            return []
        suffix = text[len(self.text) :]
        self.text = text
        return [TextDelta(suffix)]


def _role(message: dict[str, Any]) -> Any:
    author = message.get("author")
    return author.get("role") if isinstance(author, dict) else message.get("role")


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    first = parts[0] if isinstance(parts, list) and parts else ""
    return first if isinstance(first, str) else ""


def _finish_reason(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    details = metadata.get("finish_details") if isinstance(metadata, dict) else None
    reason = details.get("type") if isinstance(details, dict) else None
    return str(reason) if reason else None
