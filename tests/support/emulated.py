"""An emulator on a loopback port with the real SDK pointed at it, for the emulator's own
rule tests (rate limits, fidelity): its own credentials, and every raw HTTP response kept,
since the SDK drops a response's headers when it raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.emulator import EmulatorState, create_emulator_app, start_server

BOT = "gpt-bot"


class WallClock:
    """The emulator's clock, in Unix seconds, moved by hand."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@dataclass
class Emulated:
    state: EmulatorState
    client: StreamChat
    seen: list[requests.Response]  # every raw HTTP response the SDK received

    def send(self, text: str = "hi", **fields: Any) -> dict[str, Any]:
        channel = self.client.channel("messaging", "general")
        return channel.send_message({"text": text, **fields}, BOT)["message"]


@contextmanager
def running(state: EmulatorState) -> Iterator[Emulated]:
    with start_server(create_emulator_app(state)) as server:
        client = StreamChat(state.api_key, state.api_secret, base_url=server.url)
        seen: list[requests.Response] = []
        client.session.hooks["response"].append(lambda r, *_a, **_k: seen.append(r))
        yield Emulated(state, client, seen)


def refused(call: Any, *args: Any, **kwargs: Any) -> StreamAPIException:
    with pytest.raises(StreamAPIException) as info:
        call(*args, **kwargs)
    return info.value
