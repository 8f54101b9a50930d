"""The channel REST operations: events, get-or-create (and watch), stop watching, members.

Each view answers the JSON body only; rest.py picks the status (Stream's 200 or 201).
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from gptbot.emulator.app_routes import object_field
from gptbot.emulator.connections import Connection
from gptbot.emulator.errors import View, fail, request_body
from gptbot.emulator.event_hooks import deliver_event
from gptbot.emulator.members import query_members, update_channel
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]
CONNECTION_NOT_FOUND = 46


def send_event(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    """Watchers get the event from the state's feed; app event hooks get it here."""
    data = object_field(request_body(), "event")
    if g.get("user_id"):
        data = {**data, "user": {"id": g.user_id}}  # a client sends as itself
    event = state.send_event(ctype, channel_id, data)
    deliver_event(state, event)
    return {"event": event}


def query_channel(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    """GetOrCreateChannel; with `watch: true` and a connection_id it also watches."""
    body = request_body()
    data, opts = dict(body.get("data") or {}), body.get("messages") or {}
    if g.get("user_id") and not (data.get("created_by") or data.get("created_by_id")):
        data["created_by_id"] = g.user_id  # a client creates as itself
    watcher = _connection(state, body, "GetOrCreateChannel") if body.get("watch") else None
    found = state.query_channel(ctype, channel_id, data, opts)
    cid = found["channel"]["cid"]
    if watcher is not None:
        state.connections.watch(watcher.id, cid)
    return {**found, "watcher_count": state.connections.watcher_count(cid)}


def stop_watching(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    connection = _connection(state, request_body(), "StopWatchingChannel")
    state.connections.stop_watching(connection.id, f"{ctype}:{channel_id}")
    return {}


def _connection(state: EmulatorState, body: Json, op: str) -> Connection:
    """The caller's own WebSocket connection, named in the query string or the body."""
    connection_id = request.args.get("connection_id") or body.get("connection_id")
    if not connection_id:
        raise fail(op, 400, 4, "watching needs the connection_id of a WebSocket connection")
    connection = state.connections.get(str(connection_id))
    if connection is None or g.get("user_id") not in (None, connection.user_id):
        detail = f"connection {connection_id} not found"
        raise fail(op, 400, CONNECTION_NOT_FOUND, detail)
    return connection


CHANNEL = "/channels/<ctype>/<channel_id>"
CHANNEL_ROUTES: list[tuple[str, str, str, View]] = [
    ("POST", f"{CHANNEL}/event", "SendEvent", send_event),
    ("POST", f"{CHANNEL}/query", "GetOrCreateChannel", query_channel),
    ("POST", f"{CHANNEL}/stop-watching", "StopWatchingChannel", stop_watching),
    ("POST", CHANNEL, "UpdateChannel", update_channel),
    ("GET", "/members", "QueryMembers", query_members),
]
