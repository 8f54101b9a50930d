"""Defensive reads every wire mapper needs, whatever the vendor.

Each provider streams JSON objects carrying the same kinds of things (token counts,
tool-call arguments, error objects, alternatives numbered by `index`), and each must be
read without trusting types: values may be null, absent or of the wrong type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from gptbot.core.events import (
    RefusalDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from gptbot.core.types import ChatMessage

Turn = dict[str, Any]  # one message of a request body, in the vendor's own shape
Shape = TypeVar("Shape")
NULL = msgspec.Raw(b"null")  # the default of a Raw field, so "absent" reads like null


def load_json(data: str, what: str) -> Any:
    """Parse one payload; raise ValueError naming `what` ("Gemini chunk") if it is not JSON."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc.msg} at {exc.pos})") from None


def decode_shape(decoder: msgspec.json.Decoder[Shape], data: str) -> Shape | None:
    """`data` in the decoder's typed shape (a fast path), or None when it does not fit.

    None covers everything the fast path does not read exactly like `json.loads`: invalid
    JSON, a value of another type, an unusual field. The caller then takes the general
    dict path, which gives the old result or the old clean ValueError. One decoder per
    shape serves every streaming thread: their methods are thread-safe since msgspec 0.16.
    """
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, UnicodeEncodeError):  # a lone surrogate cannot be UTF-8
        return None


def raw_object(raw: msgspec.Raw) -> Any:
    """A field the fast path kept as raw JSON, parsed by `json.loads`: values that ride
    along as dicts (usage in `Usage.raw`) must be exactly what the dict path gives."""
    return json.loads(bytes(raw).decode())  # str, so json.loads never guesses UTF-16


def load_object(data: str, what: str) -> dict[str, Any]:
    """Parse one payload; raise ValueError naming `what` if it is not a JSON object."""
    value = load_json(data, what)
    if not isinstance(value, dict):
        raise ValueError(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def strict_int(value: Any) -> int | None:
    """`value` if it is an int, else None."""
    # bool is an int subclass; a count or an index never is one.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_deltas(thinking: Any, text: Any, refusal: Any = None) -> list[StreamEvent]:
    """Reasoning, answer and refusal pieces, in that order, for each that is a non-empty
    string: role chunks and tool-call chunks carry "" or null instead."""
    kinds = ((ThinkingDelta, thinking), (TextDelta, text), (RefusalDelta, refusal))
    return [kind(value) for kind, value in kinds if value and isinstance(value, str)]


def count(value: Any) -> int | None:
    """`value` if it is a token count (an int >= 0), else None: not stated."""
    # strict_int spelled out: Gemini has several counts in every chunk.
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return value if is_int and value >= 0 else None


def first_count(*values: Any) -> int | None:
    """The first value that is a count: one number some vendors put under several names."""
    return next((value for value in values if count(value) is not None), None)


def total(*counts: int | None) -> int | None:
    """The sum of the counts a report states; None when it states none of them."""
    stated = [n for n in counts if n is not None]
    return sum(stated) if stated else None


def sub_object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested details object (`prompt_tokens_details`…), or {} when absent or not one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def usage_event(
    raw: dict[str, Any],
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    cached: int | None = None,
    cache_write: int | None = None,
    reasoning: int | None = None,
) -> Usage:
    """A usage report from counts each vendor's normaliser has already made whole
    (parts included in their wholes, see Usage); `raw` rides along for the logs."""
    return Usage(input_tokens, output_tokens, raw, cached, cache_write, reasoning)


def error_event(
    error: Any, default_message: str, code_of: Callable[[dict[str, Any]], Any]
) -> StreamError:
    """A vendor's error object (or bare error value) as a StreamError.

    `code_of` picks the vendor's code from the object; None means there is none.
    """
    if not isinstance(error, dict):
        return StreamError(str(error or default_message))
    message = error.get("message") or default_message
    code = code_of(error)
    return StreamError(str(message), None if code is None else str(code))


def choice_zero(entries: Any) -> dict[str, Any] | None:
    """The entry with `index` 0 (absent counts as 0) of OpenAI's choices or Gemini's
    candidates: with several alternatives they interleave, one per chunk, so position
    says nothing."""
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("index", 0) == 0:
            return entry
    return None


def whole_arguments(value: Any) -> str:
    """A whole tool call's arguments object (Gemini, Ollama) as the JSON text the
    accumulator collects; anything but an object counts as no arguments."""
    return json.dumps(value if isinstance(value, dict) else {})


def turns_without_system(
    messages: tuple[ChatMessage, ...],
    turn_json: Callable[[ChatMessage], Turn],
    add_tool_result: Callable[[list[Turn], ChatMessage], None],
) -> list[Turn]:
    """The conversation for APIs that take the system prompt separately (Anthropic,
    Gemini). Tool results go through `add_tool_result`: those APIs want all results of
    one round in a single user turn, so it may extend the previous turn."""
    turns: list[Turn] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            add_tool_result(turns, message)
        else:
            turns.append(turn_json(message))
    return turns
