"""Stream's app event hooks: channel events forwarded, signed, to the webhooks the app lists.

This is how a client's Stop button (`ai_indicator.stop`) reaches the bot in `gptbot dev`,
as it would with Stream. Delivery runs on its own thread: Stream does not make the sender
wait for webhooks either.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

import requests

from gptbot.emulator.commands import signed_headers
from gptbot.emulator.model import Json
from gptbot.emulator.state import EmulatorState

log = logging.getLogger(__name__)
TIMEOUT_S = 6.0  # Stream's per-request timeout for event webhooks


def deliver_event(state: EmulatorState, event: Json) -> list[threading.Thread]:
    """Post the event to every enabled webhook hook subscribed to its type."""
    urls = hook_urls(state.get_app(), event["type"])
    threads = [threading.Thread(target=_post, args=(state, url, event), daemon=True)
               for url in urls]
    for thread in threads:
        thread.start()
    return threads


def hook_urls(app: Json, event_type: str) -> list[str]:
    """An empty `event_types` list means every event, as in Stream's settings."""
    return [hook["webhook_url"] for hook in app.get("event_hooks") or []
            if hook.get("enabled", True) and hook.get("hook_type", "webhook") == "webhook"
            and hook.get("webhook_url")
            and (not hook.get("event_types") or event_type in hook["event_types"])]


def _post(state: EmulatorState, url: str, event: Json) -> None:
    body = json.dumps(event).encode()
    headers = signed_headers(state, body, str(uuid.uuid4()), 1, False)
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_S)
        log.info("event hook %s answered %s", url, response.status_code)
    except requests.RequestException as exc:
        log.warning("event hook %s unreachable: %s", url, exc)
