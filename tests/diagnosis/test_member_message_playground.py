"""The playground shows a channel member the message for a broken model key: the whole loop
(playground on the Stream emulator, the registered bot, its worker) with a model that
answers 401, and what the member's channel then holds."""

from __future__ import annotations

import json

import requests

from tests.support.loop import wait_for, whole_loop
from tests.support.servers import FakeLLM

API = "/playground/api"
# OpenAI's own words for a bad key (it shows the key masked, as here).
REJECTED = json.dumps({"error": {"message": "Incorrect API key provided: sk-te**st",
                                 "code": "invalid_api_key"}}).encode()
# Written out, not built from gptbot.core.errors: the test says what the member must read.
MEMBER_SEES = ("Sorry, I can't answer: the language model's API key was rejected. "
               "An operator has to fix it.")


def bot_replies(url: str) -> list[dict]:
    history = requests.get(f"{url}{API}/channels/messaging/general/messages?user=alice",
                           timeout=5).json()
    return [m for m in history["messages"]
            if m["user"]["id"] == "gpt-bot" and not m.get("generating")
            and m.get("text")]


def test_a_rejected_model_key_shows_the_member_which_part_is_broken(tmp_path):
    with whole_loop(tmp_path, FakeLLM(REJECTED, status=401)) as loop:
        sent = requests.post(f"{loop.url}{API}/send", timeout=5,
                             json={"text": "/gpt what is new?", "user": "alice"})
        assert sent.status_code == 201
        [reply] = wait_for(lambda: bot_replies(loop.url), what="the bot's reply")
    assert reply["text"] == MEMBER_SEES
    shown = json.dumps(reply)
    assert "Incorrect API key" not in shown and "127.0.0.1" not in shown  # no provider detail
