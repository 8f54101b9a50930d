"""Queue messages as JSON, never pickle: whoever can write to the queue (the Redis list, the
SQLite file) can at most queue a bad job, not run code in the workers.

huey's own serializer pickles its task messages, and unpickling runs whatever the bytes
name. This one writes huey's `Message` fields as a JSON object and reads back only that:
anything else (pickle bytes above all) is refused before a task object exists, and huey's
worker logs the refusal and goes on with the next message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from huey.registry import Message
from huey.serializer import Serializer

FORMAT = "gptbot.job/1"  # a marker every message carries; a reader refuses any other
_DATES = ("eta", "expires_resolved")  # the datetime fields of a message
_NESTED = ("on_complete", "on_error", "chord_config")  # pipelines: gptbot queues none


class UnsafeMessage(ValueError):
    """Bytes in the queue that are not a gptbot JSON job: dropped without being run."""


class JsonSerializer(Serializer):
    def _serialize(self, data: Any) -> bytes:
        if not isinstance(data, Message):
            raise TypeError(f"only task messages go through the queue, not {type(data)}")
        return json.dumps(_to_json(data)).encode()

    def _deserialize(self, data: bytes) -> Message:
        try:
            fields = json.loads(data)
        except ValueError:  # pickle bytes, or anything else that is not UTF-8 JSON
            raise UnsafeMessage(f"refused a queue message that is not JSON: {data[:16]!r}…") \
                from None
        if not isinstance(fields, dict) or fields.pop("format", None) != FORMAT:
            raise UnsafeMessage("refused a queue message that is not a gptbot job")
        return _from_json(fields)


def _to_json(message: Message) -> dict[str, Any]:
    fields = message._asdict()
    if any(fields[name] is not None for name in _NESTED):
        raise TypeError("gptbot's queue carries single tasks, not pipelines or chords")
    for name in _DATES:
        if fields[name] is not None:
            fields[name] = fields[name].isoformat()
    fields["args"] = list(fields["args"] or ())
    return {"format": FORMAT, **fields}


def _from_json(fields: dict[str, Any]) -> Message:
    unknown = set(fields) - set(Message._fields)
    if unknown or any(fields.get(name) is not None for name in _NESTED):
        raise UnsafeMessage(f"refused a queue message with fields {sorted(unknown) or _NESTED}")
    for name in _DATES:
        if fields.get(name) is not None:
            fields[name] = datetime.fromisoformat(fields[name])
    fields["args"] = tuple(fields.get("args") or ())
    return Message(**fields)
