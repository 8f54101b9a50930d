"""Stream's app event hooks: channel events forwarded, signed, to the webhooks the app lists.

Only the webhook event catalogue is forwarded (Stream's WHEvent mapping, spec-v1
`openapi/chat-openapi.json` at GetStream/protocol e51a64d3): a client event such as
`ai_indicator.stop`, or any custom event, reaches a hook only when the hook sets
`should_send_custom_events`; otherwise only WebSocket watchers of the channel see it
(connections.py). Delivery runs on its own thread: Stream does not make the sender wait;
failed attempts are retried as Stream documents for hooks (webhooks.EVENT_HOOK_POLICY).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

from gptbot.emulator.model import Json
from gptbot.emulator.state import EmulatorState
from gptbot.emulator.webhooks import (
    EVENT_HOOK_POLICY,
    Delivery,
    HookResult,
    deliver,
    signed_headers,
)

log = logging.getLogger(__name__)
TIMEOUT_S = EVENT_HOOK_POLICY.timeout_s
# The webhook event catalogue (spec-v1 WHEvent's mapping, less its '*' = CustomEvent).
WEBHOOK_EVENTS = frozenset([
    "channel.created", "channel.deleted", "channel.frozen", "channel.hidden",
    "channel.max_streak_changed", "channel.muted", "channel.truncated", "channel.unfrozen",
    "channel.unmuted", "channel.updated", "channel.visible", "channel_batch_update.completed",
    "channel_batch_update.started", "campaign.completed", "campaign.started", "flag.updated",
    "member.added", "member.removed", "member.updated", "message.deleted", "message.flagged",
    "message.new", "message.pending", "message.read", "message.unblocked", "message.undeleted",
    "message.updated", "notification.mark_unread", "notification.reminder_due",
    "notification.thread_message_new", "reaction.deleted", "reaction.new", "reaction.updated",
    "reminder.created", "reminder.deleted", "reminder.updated", "thread.updated", "user.banned",
    "user.deactivated", "user.deleted", "user.flagged", "user.messages.deleted", "user.muted",
    "user.reactivated", "user.unbanned", "user.unmuted", "user.unread_message_reminder",
    "user.updated", "user_group.created", "user_group.deleted", "user_group.member_added",
    "user_group.member_removed", "user_group.updated",
])


def deliver_event(state: EmulatorState, event: Json) -> list[threading.Thread]:
    """Post the event to every enabled webhook hook subscribed to its type."""
    urls = hook_urls(state.get_app(), event["type"])
    state.publish("event_hook", type=event["type"], cid=event.get("cid"), urls=urls)
    threads = [threading.Thread(target=_post, args=(state, url, event), daemon=True)
               for url in urls]
    for thread in threads:
        thread.start()
    return threads


def hook_urls(app: Json, event_type: str) -> list[str]:
    """An empty `event_types` list means every event, as in Stream's settings."""
    return [hook["webhook_url"] for hook in app.get("event_hooks") or []
            if hook.get("enabled", True) and hook.get("hook_type", "webhook") == "webhook"
            and hook.get("webhook_url") and subscribed(hook, event_type)]


def subscribed(hook: Json, event_type: str) -> bool:
    listed = not hook.get("event_types") or event_type in hook["event_types"]
    custom_ok = hook.get("should_send_custom_events") is True
    return listed and (event_type in WEBHOOK_EVENTS or custom_ok)


def _post(state: EmulatorState, url: str, event: Json) -> None:
    body = json.dumps(event).encode()
    webhook_id = str(uuid.uuid4())

    def headers(attempt: int) -> dict[str, str]:
        return signed_headers(state.api_key, state.api_secret, body, webhook_id, attempt, False)

    def record(attempt: int, result: HookResult, elapsed_ms: float) -> None:
        log.info("event hook %s attempt %d: %s %s", url, attempt, result.outcome, result.status)
        call = {"url": url, "type": event["type"], "webhook_id": webhook_id,
                "attempt": attempt, "outcome": result.outcome, "status": result.status}
        state.publish("event_hook_call", **call)

    deliver(Delivery(url, body, headers, EVENT_HOOK_POLICY,
                     backoff_s=state.webhook_backoff_s, on_attempt=record))
