"""The playground's live feed: the emulator's changes as server-sent events, as one viewer
may see them (ephemeral command results go to their sender only, as on Stream).
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator

from gptbot.emulator.feed import Change
from gptbot.emulator.state import EmulatorState

# Kinds every viewer may see; message.new is filtered per viewer (ephemeral results).
PUBLIC_KINDS = frozenset({"message.updated", "event", "channel.created", "hook"})


def change_stream(
    state: EmulatorState, viewer: str, since: int | None, heartbeat_s: float
) -> Iterator[str]:
    """SSE frames: first what the viewer missed after `since`, then live changes."""
    subscription = state.subscribe()
    try:
        yield "retry: 1000\n\n"
        backlog = changes_after(state, since) if since is not None else []
        # Live changes up to `last` were in the backlog already; without `since`, keep all.
        last = backlog[-1]["seq"] if backlog else since or 0
        for change in backlog:
            yield from sse_frame(change, viewer)
        while True:
            try:
                change = subscription.get(timeout=heartbeat_s)
            except queue.Empty:
                # Keeps proxies from closing an idle stream and finds dead clients.
                yield ": heartbeat\n\n"
                continue
            if change["seq"] > last:
                last = change["seq"]
                yield from sse_frame(change, viewer)
    finally:
        state.unsubscribe(subscription)


def sse_frame(change: Change, viewer: str) -> Iterator[str]:
    if visible(change, viewer):
        yield f"id: {change['seq']}\ndata: {json.dumps(change)}\n\n"


def visible(change: Change, viewer: str) -> bool:
    """Ephemeral and error command results go to their sender only, as on Stream."""
    if change["kind"] == "message.new":
        return change.get("visible_to") in (None, viewer)
    return change["kind"] in PUBLIC_KINDS


def changes_after(state: EmulatorState, seq: int) -> list[Change]:
    # list() of a deque runs without releasing the GIL, so publishers cannot tear it.
    return [c for c in list(state.changes) if c["seq"] > seq]


def last_seq(state: EmulatorState) -> int:
    try:
        return int(state.changes[-1]["seq"])
    except IndexError:  # nothing published yet
        return 0
