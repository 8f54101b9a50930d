"""The Stop button end to end: the playground sends `ai_indicator.stop`, the emulator forwards
it to the bot's event hook (registered with `should_send_custom_events`, without which a client
event reaches no hook), and the answer ends with what it had so far."""

from __future__ import annotations

import pytest
import requests

from gptbot.emulator.event_hooks import hook_urls
from tests.support.common import sse_chat_stream
from tests.support.loop import wait_for, whole_loop
from tests.support.servers import FakeLLM

WORDS = [f"word{i} " for i in range(400)]


@pytest.mark.parametrize("path", ["websocket and hook", "websocket only"])
def test_stop_button_stops_the_answer(tmp_path, path):
    llm = FakeLLM(sse_chat_stream(WORDS), piece_sizes=(8, 16), delay=0.02)
    with whole_loop(tmp_path, llm) as loop:
        if path == "websocket only":  # as Stream documents it: the hook never hears a Stop
            loop.state.update_app({"event_hooks": []})
        requests.post(f"{loop.url}/playground/api/send", timeout=5, json={
            "channel_type": "messaging", "channel_id": "general",
            "user": {"id": "sam", "name": "Sam"}, "text": "/gpt Count for me"}).raise_for_status()
        generating = wait_for(lambda: _generating(loop.state), 10, "the answer to start")
        requests.post(f"{loop.url}/playground/api/stop", timeout=5, json={
            "channel_type": "messaging", "channel_id": "general", "user": {"id": "sam"},
            "message_id": generating["message_id"]}).raise_for_status()
        final = wait_for(lambda: _finished_reply(loop.state), 10, "the answer to stop")
        hooked = [c for c in loop.state.changes if c["kind"] == "event_hook"
                  and c["type"] == "ai_indicator.stop" and c["urls"]]
    assert final["text"].endswith("_Stopped._")
    assert "word399" not in final["text"]
    assert bool(hooked) == (path == "websocket and hook")


def test_only_enabled_webhook_hooks_for_the_type_get_events():
    app = {"event_hooks": [
        {"hook_type": "webhook", "webhook_url": "https://a", "event_types": ["ai_indicator.stop"],
         "should_send_custom_events": True},
        {"hook_type": "webhook", "webhook_url": "https://all", "event_types": [],
         "should_send_custom_events": True},
        {"hook_type": "webhook", "webhook_url": "https://plain", "event_types": []},
        {"hook_type": "webhook", "webhook_url": "https://off", "enabled": False},
        {"hook_type": "sqs", "sqs_queue_url": "q"},
    ]}
    assert hook_urls(app, "ai_indicator.stop") == ["https://a", "https://all"]
    assert hook_urls(app, "message.new") == ["https://all", "https://plain"]
    assert hook_urls({}, "ai_indicator.stop") == []


def test_a_client_event_reaches_only_hooks_that_ask_for_custom_events():
    """`ai_indicator.stop` is not in Stream's webhook catalogue: listing it is not enough."""
    listed = {"hook_type": "webhook", "webhook_url": "https://a",
              "event_types": ["ai_indicator.stop"]}
    assert hook_urls({"event_hooks": [listed]}, "ai_indicator.stop") == []
    flagged = {**listed, "should_send_custom_events": True}
    assert hook_urls({"event_hooks": [flagged]}, "ai_indicator.stop") == ["https://a"]


def _generating(state):
    events = [e for e in state.events if e.get("ai_state") == "AI_STATE_GENERATING"]
    return events[0] if events else None


def _finished_reply(state):
    done = [m for m in state.messages.values()
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")]
    return done[0] if done else None
