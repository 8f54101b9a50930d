"""Property: on generated chunks, each mapper (typed fast path first) gives exactly what
its general dict path gives: the same events, or the same clean ValueError.

Chunks are built from each vendor's real field names with values that are mostly of the
right type; any field may instead hold any JSON value, be null or be missing, so the
odd shapes the fast path must hand over are generated as well as the common ones.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.llm.test_fast_paths import assert_same

# Strings as they come: short, non-ASCII, U+2028, NUL, and now and then a lone surrogate
# (json.dumps escapes it or, with ensure_ascii=False, leaves it raw in the payload).
texts = st.text(max_size=4) | st.sampled_from(["", "é", "日本", "\u2028", "\x00", "\ud83d"])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


class Shapes:
    """Builds objects from their fields. Typical objects have every field, each of the
    right type; odd ones have any subset, and any value may be null or any JSON value, the
    object itself included."""

    def __init__(self, odd: bool) -> None:
        self.odd = odd

    def field(self, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        if self.odd:
            return st.one_of(value, value, value, st.none(), anything)
        return value  # nulls and absences come with the odd payloads

    def obj(self, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        values = {key: self.field(value) for key, value in fields.items()}
        if not self.odd:  # every field, so the common shapes come up often
            return st.fixed_dictionaries(values)
        found = st.fixed_dictionaries({}, optional=values)
        return st.one_of(found, found, found, anything)

    def payload(self, chunk: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
        return st.tuples(chunk, st.booleans()).map(lambda c: json.dumps(c[0], ensure_ascii=c[1]))


TYPICAL, ODD = Shapes(odd=False), Shapes(odd=True)
counts = st.integers(min_value=-2, max_value=500)
reasons = st.sampled_from(["stop", "length", "tool_calls", "STOP", "end_turn", ""])
indexes = st.sampled_from([0, 0, 0, 1, 2, -1])  # mostly choice 0, as in real streams

# Each builder takes the Shapes to use; the fields that always send a payload to the dict
# path (usage, errors, …) are generated only in odd payloads, so typical ones mostly take
# the fast path and odd ones mostly do not: both sides of the property are exercised.

# --- OpenAI Chat Completions ---------------------------------------------------------------


def chat_chunk(s: Shapes) -> st.SearchStrategy[Any]:
    function = s.obj(name=texts, arguments=texts)
    call = s.obj(index=indexes, id=texts, type=st.just("function"), function=function)
    delta = s.obj(
        role=st.just("assistant"),
        content=texts,
        reasoning_content=texts,
        reasoning=texts,
        refusal=texts,
        tool_calls=st.lists(call, max_size=2),
        **({"function_call": function} if s.odd else {}),
    )
    choice = s.obj(index=indexes, delta=delta, finish_reason=reasons, logprobs=st.none())
    usage = s.obj(prompt_tokens=counts, completion_tokens=counts, total_tokens=counts)
    rare = {
        "usage": usage,
        "error": s.obj(message=texts, type=texts, code=texts),
        "object": st.sampled_from(["chat.completion.chunk", "error"]),
        "message": texts,
    }
    groq = s.obj(id=texts, **({"usage": usage} if s.odd else {}))
    choices = st.lists(choice, min_size=1, max_size=3)
    return s.obj(id=texts, choices=choices, x_groq=groq, **odd_only(s, rare))


def odd_only(s: Shapes, fields: dict[str, Any]) -> dict[str, Any]:
    return fields if s.odd else {}


# --- Anthropic ------------------------------------------------------------------------------


def anthropic_event(s: Shapes) -> st.SearchStrategy[Any]:
    kinds = ["text_delta", "input_json_delta", "thinking_delta", "signature_delta"]
    delta = s.obj(type=st.sampled_from(kinds), text=texts, partial_json=texts, thinking=texts)
    blocks = st.sampled_from(["text", "tool_use", "thinking"])
    block = s.obj(type=blocks, id=texts, name=texts, text=texts)
    types = ["content_block_delta"] * 4 + ["content_block_start", "content_block_stop", "ping"]
    types += ["message_start", "message_delta", "message_stop", "error"] if s.odd else []
    usage = s.obj(input_tokens=counts, output_tokens=counts)
    rare = {"usage": usage, "message": s.obj(usage=usage), "error": s.obj(type=texts)}
    return s.obj(
        type=st.sampled_from([*types, "later_type"]),
        index=indexes,
        delta=delta,
        content_block=block,
        **odd_only(s, rare),
    )


# --- Gemini ---------------------------------------------------------------------------------


def gemini_chunk(s: Shapes) -> st.SearchStrategy[Any]:
    call = s.obj(id=texts, name=texts, args=st.dictionaries(texts, scalars, max_size=2))
    part = s.obj(text=texts, thought=st.booleans(), functionCall=call, thoughtSignature=texts)
    content = s.obj(parts=st.lists(part, min_size=1, max_size=3), role=st.just("model"))
    candidate = s.obj(index=indexes, content=content, finishReason=reasons)
    details = st.lists(s.obj(modality=st.just("TEXT"), tokenCount=counts), max_size=2)
    usage = s.obj(
        promptTokenCount=counts,
        candidatesTokenCount=counts,
        thoughtsTokenCount=counts,
        cachedContentTokenCount=counts,
        promptTokensDetails=details,
        trafficType=st.just("ON_DEMAND"),
    )
    rare = {"promptFeedback": s.obj(blockReason=texts), "error": s.obj(code=counts)}
    return s.obj(
        candidates=st.lists(candidate, min_size=1, max_size=2),
        usageMetadata=usage,
        modelVersion=texts,
        **odd_only(s, rare),
    )


# --- Ollama ---------------------------------------------------------------------------------


def ollama_line(s: Shapes) -> st.SearchStrategy[Any]:
    arguments = st.dictionaries(texts, scalars, max_size=2)
    call = s.obj(function=s.obj(name=texts, arguments=arguments))
    calls = {"tool_calls": st.lists(call, max_size=2)}
    message = s.obj(role=st.just("assistant"), content=texts, thinking=texts, **odd_only(s, calls))
    rare = {"done": st.booleans(), "eval_count": counts, "error": texts}
    return s.obj(model=texts, message=message, response=texts, **odd_only(s, rare))


# --- the property ---------------------------------------------------------------------------

FORMATS = {
    "openai": chat_chunk,
    "anthropic": anthropic_event,
    "gemini": gemini_chunk,
    "ollama": ollama_line,
}


def payloads(name: str) -> st.SearchStrategy[str]:
    """Typical and odd payloads of one format, half and half."""
    return st.sampled_from([TYPICAL, ODD]).flatmap(lambda s: s.payload(FORMATS[name](s)))


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_fast_path_equals_dict_path(name: str, data: st.DataObject) -> None:
    assert_same(name, data.draw(payloads(name)))
