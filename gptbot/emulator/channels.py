"""Channels, their members and events, and the change feed every change is published on.

`ChannelStore` extends the app catalogue with channels; `EmulatorState` extends it with
messages. All three share the catalogue's re-entrant lock and hand out deep copies.
"""

from __future__ import annotations

import copy
import queue
from collections import deque
from typing import Any

from gptbot.emulator import model
from gptbot.emulator.catalog import Catalog
from gptbot.emulator.connections import Connections
from gptbot.emulator.errors import fail
from gptbot.emulator.feed import Change, ChangeFeed

Json = dict[str, Any]


class ChannelStore(Catalog):
    """channels and members (per cid, per user id), events; feed / changes; connections
    (client WebSockets and the channels they watch; they get channel events)."""

    def __init__(self, app_name: str) -> None:
        super().__init__(app_name)
        self.feed = ChangeFeed()
        self.connections = Connections()
        self.channels: dict[str, Json] = {}
        self.members: dict[str, dict[str, Json]] = {}  # cid -> user id -> member
        self.events: list[Json] = []
        self._timeline: dict[str, list[str]] = {}  # cid -> ids of its top-level messages

    # -- change feed -------------------------------------------------------------------

    def subscribe(self) -> queue.Queue[Change]:
        return self.feed.subscribe()

    def unsubscribe(self, subscription: queue.Queue[Change]) -> None:
        self.feed.unsubscribe(subscription)

    @property
    def changes(self) -> deque[Change]:
        return self.feed.changes

    def publish(self, kind: str, **fields: Any) -> None:
        self.feed.publish(kind, **fields)
        self.connections.on_change(kind, fields)

    # -- channels ----------------------------------------------------------------------

    def get_or_create_channel(self, ctype: str, channel_id: str, data: Json | None = None) -> Json:
        """Server-side get-or-create: a new channel needs data.created_by(_id), as on Stream."""
        data = data or {}
        with self._lock:
            cid = f"{ctype}:{channel_id}"
            if cid not in self.channels:
                self._create_channel(ctype, channel_id, data)
            return self.channel_view(cid)

    def ensure_channel(self, ctype: str, channel_id: str, created_by: str) -> Json:
        return self.get_or_create_channel(ctype, channel_id, {"created_by_id": created_by})

    def channel_view(self, cid: str) -> Json:
        """The channel as Stream's ChannelResponse carries it: with its type's `config`."""
        with self._lock:
            channel = copy.deepcopy(self.channels[cid])
            channel["config"] = self.get_channel_type(channel["type"])
            return channel

    def query_members(
        self, ctype: str, channel_id: str, ids: list[str] | None, opts: Json
    ) -> list[Json]:
        """The channel's members in join order, only `ids` when given; limit and offset."""
        with self._lock:
            cid = self._existing_channel(ctype, channel_id, "QueryMembers")["cid"]
            found = [m for m in self._member_views(cid) if ids is None or m["user_id"] in ids]
            offset, limit = int(opts.get("offset", 0)), min(int(opts.get("limit", 100)), 300)
            return found[offset : offset + limit]

    def add_members(self, ctype: str, channel_id: str, members: list[Any]) -> Json:
        """Stream's UpdateChannel with add_members (user ids or {"user_id": …}): the channel
        and all its members."""
        with self._lock:
            cid = self._existing_channel(ctype, channel_id, "UpdateChannel")["cid"]
            for user_id in model.member_ids(members):
                self._add_member(cid, user_id)
            return {"channel": self.channel_view(cid), "members": self._member_views(cid)}

    def send_event(self, ctype: str, channel_id: str, data: Json) -> Json:
        with self._lock:
            channel = self._existing_channel(ctype, channel_id, "SendEvent")
            user = self.ensure_user(model.author(data, op="SendEvent"))
            event = model.new_event(channel, data, user)
            self.events.append(event)
            self.publish("event", cid=channel["cid"], event=event)
            return copy.deepcopy(event)

    def _create_channel(self, ctype: str, channel_id: str, data: Json) -> None:
        self._channel_type(ctype, "GetOrCreateChannel")
        creator = model.creator_id(data)
        channel = model.new_channel(ctype, channel_id, data, self.ensure_user(creator))
        self.channels[channel["cid"]] = channel
        self._timeline[channel["cid"]] = []
        self.members[channel["cid"]] = {}
        # Only data.members join: Stream makes nobody else a member, not even the creator.
        for user_id in model.member_ids(data.get("members")):
            self._add_member(channel["cid"], user_id)
        self.publish("channel.created", cid=channel["cid"], channel=channel)

    def _add_member(self, cid: str, user_id: str) -> None:
        """Unknown users are created, as everywhere in the emulator (Stream would refuse)."""
        members = self.members[cid]
        if user_id not in members:
            members[user_id] = model.new_member(self.ensure_user(user_id))
            self.channels[cid]["member_count"] = len(members)

    def _member_views(self, cid: str) -> list[Json]:
        """Members with their users as stored now, like Stream's enriched responses."""
        views = copy.deepcopy(list(self.members.get(cid, {}).values()))
        for member in views:
            member["user"] = copy.deepcopy(self.users.get(member["user_id"], member["user"]))
        return views

    def _existing_channel(self, ctype: str, channel_id: str, op: str) -> Json:
        cid = f"{ctype}:{channel_id}"
        if cid not in self.channels:
            raise fail(op, 404, 16, f"channel {cid} doesn't exist")
        return self.channels[cid]
