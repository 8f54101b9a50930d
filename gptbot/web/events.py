"""Stream's event webhooks (app `event_hooks`): the one that matters is `ai_indicator.stop`,
which a client's "Stop generating" button sends to the channel."""

from __future__ import annotations

import logging
from typing import Any

from gptbot.conversation.memory import conversation_key
from gptbot.core.errors import BadRequest
from gptbot.jobs.stop import record_stop
from gptbot.store import JobStore
from gptbot.web.webhook import load_json_object

log = logging.getLogger(__name__)

STOP_EVENT = "ai_indicator.stop"


def parse_event(body: bytes) -> dict[str, Any]:
    """The event as a dict; the same checks as a command (depth, numbers, surrogates)."""
    event = load_json_object(body)
    if not isinstance(event.get("type"), str):
        raise BadRequest("an event must be a JSON object with a string 'type'")
    return event


def handle_event(event: dict[str, Any], store: JobStore) -> str:
    """Record a stop for the event's channel (or thread); every other event is ignored."""
    if event["type"] != STOP_EVENT:
        return "ignored"
    cid, parent_id = _cid(event), _text(event, "parent_id") or None
    if not record_stop(store, cid, parent_id, _text(event, "message_id")):
        return "ignored"  # a stop for another bot's message
    log.info("stop requested for %s by an %s event", conversation_key(cid, parent_id),
             STOP_EVENT)
    return "stopping"


def _cid(event: dict[str, Any]) -> str:
    cid = _text(event, "cid")
    if not cid and _text(event, "channel_type") and _text(event, "channel_id"):
        cid = f"{event['channel_type']}:{event['channel_id']}"
    if ":" not in cid:
        raise BadRequest(f"{STOP_EVENT} event without a channel")
    return cid


def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""
