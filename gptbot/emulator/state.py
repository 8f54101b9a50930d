"""The in-memory Stream Chat app behind the emulator: one lock, plain dicts, a change feed.

Every method takes the lock and hands out deep copies, so REST threads, the command
player and a future playground UI can share one instance without seeing torn state.
"""

from __future__ import annotations

import copy
import queue
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from gptbot.emulator import model
from gptbot.emulator.catalog import Catalog
from gptbot.emulator.connections import Connections
from gptbot.emulator.errors import FaultInjector, fail
from gptbot.emulator.feed import Change, ChangeFeed
from gptbot.emulator.files import FileStore
from gptbot.emulator.model import now
from gptbot.emulator.rate_limits import RateLimiter

Json = dict[str, Any]
# Writes that reach Stream's database; the ephemeral PATCH is deliberately not one of them.
PERSISTED_OPS = frozenset({"SendMessage", "UpdateMessagePartial", "UpdateMessage"})
DEFAULT_QUERY_LIMIT = 25
DEFAULT_REPLIES_LIMIT = 25


class EmulatorState(Catalog):
    """One fake Stream app. Public attributes tests may read (copy before mutating):

    requests: REST calls per Stream operation name; writes / persisted_writes: stored
    message writes; messages, private (ephemeral/error command results), channels, members
    (per cid, per user id), events,
    history (per message id, every update incl. ephemeral ones), hook_calls; feed / changes;
    connections (client WebSockets and the channels they watch; they get channel events);
    files (uploaded channel files, served from signed /cdn/ URLs on the emulator's host).

    Rate limits: `rate_limits` (per family per minute, merged over Stream's defaults, None =
    unlimited) and `clock` (Unix seconds, replaceable any time); `rate_limiter` has the counts.
    """

    def __init__(
        self,
        api_key: str = "emulator-key",
        api_secret: str = "emulator-secret-0123456789abcdef0123456789",
        app_name: str = "gptbot-emulator",
        rate_limits: Mapping[str, int | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(app_name)
        self.api_key = api_key
        self.api_secret = api_secret
        self.latency_s = 0.0
        self.clock = clock
        # Through a lambda so a test that swaps state.clock later moves the windows too.
        self.rate_limiter = RateLimiter(rate_limits, clock=lambda: self.clock())
        self.requests: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.faults = FaultInjector()
        self.inject_fault = self.faults.add  # the tests' short way to provoke an error
        self.feed = ChangeFeed()
        self.connections = Connections()
        self.files = FileStore(api_secret, clock=lambda: self.clock())  # uploads, by id
        self.channels: dict[str, Json] = {}
        self.messages: dict[str, Json] = {}
        self.private: dict[str, Json] = {}
        self.events: list[Json] = []
        self.history: dict[str, list[Json]] = {}
        self.hook_calls: list[Json] = []
        self._timeline: dict[str, list[str]] = {}
        self._replies: dict[str, list[str]] = {}
        self.members: dict[str, dict[str, Json]] = {}  # cid -> user id -> member

    # -- change feed, counters, faults -------------------------------------------------

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

    @property
    def persisted_writes(self) -> int:
        """The bot's message writes that Stream would store (not ephemeral, not users')."""
        with self._lock:
            return sum(self.writes[op] for op in PERSISTED_OPS)

    def count_request(self, op: str) -> None:
        with self._lock:
            self.requests[op] += 1

    @property
    def rate_limits(self) -> dict[str, int | None]:
        """The live limits, per family ("messages", "events") or operation name."""
        return self.rate_limiter.limits

    # -- channels ----------------------------------------------------------------------

    def get_or_create_channel(self, ctype: str, channel_id: str, data: Json | None = None) -> Json:
        """Server-side get-or-create: a new channel needs data.created_by(_id), as on Stream."""
        data = data or {}
        with self._lock:
            cid = f"{ctype}:{channel_id}"
            if cid not in self.channels:
                self._create_channel(ctype, channel_id, data)
            return self._channel_view(cid)

    def ensure_channel(self, ctype: str, channel_id: str, created_by: str) -> Json:
        return self.get_or_create_channel(ctype, channel_id, {"created_by_id": created_by})

    def query_channel(self, ctype: str, channel_id: str, data: Json, opts: Json) -> Json:
        with self._lock:
            channel = self.get_or_create_channel(ctype, channel_id, data)
            ids = model.page(self._timeline[channel["cid"]], opts, DEFAULT_QUERY_LIMIT)
            messages = [copy.deepcopy(self.messages[i]) for i in ids]
            members = self._member_views(channel["cid"])
            empty: Json = {"read": [], "pinned_messages": [], "watcher_count": 0}
            return {"channel": channel, "messages": messages, "members": members, **empty}

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
            return {"channel": self._channel_view(cid), "members": self._member_views(cid)}

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

    def _channel_view(self, cid: str) -> Json:
        channel = copy.deepcopy(self.channels[cid])
        channel["config"] = self.get_channel_type(channel["type"])
        return channel

    def _existing_channel(self, ctype: str, channel_id: str, op: str) -> Json:
        cid = f"{ctype}:{channel_id}"
        if cid not in self.channels:
            raise fail(op, 404, 16, f"channel {cid} doesn't exist")
        return self.channels[cid]

    # -- messages ----------------------------------------------------------------------

    def compose_message(self, ctype: str, channel_id: str, data: Json) -> Json:
        """Validate a send and build the full message without storing it."""
        with self._lock:
            self._check_new_id(data.get("id"))
            user = self.ensure_user(model.author(data))
            parent = self._parent(data.get("parent_id"), f"{ctype}:{channel_id}")
            message = model.new_message(f"{ctype}:{channel_id}", data, user, self.users)
            model.check_length("SendMessage", message, self._max_length(ctype))
            return message if parent is None else {**message, "type": "reply"}

    def send_message(self, ctype: str, channel_id: str, data: Json) -> Json:
        with self._lock:
            author = model.author(data)["id"]
            self.ensure_channel(ctype, channel_id, author)
            return self.store_message(self.compose_message(ctype, channel_id, data))

    def store_message(self, message: Json, op: str = "SendMessage") -> Json:
        """Commit a composed message to the channel (and thread), as the real send does."""
        with self._lock:
            self._check_new_id(message["id"])
            model.check_length("SendMessage", message, self._max_length(message["cid"]))
            message = copy.deepcopy(message)
            self.messages[message["id"]] = message
            self._link(message)
            self._record(message, op, persisted=True)
            self.publish("message.new", cid=message["cid"], message=message, visible_to=None)
            return copy.deepcopy(message)

    def store_private(self, message: Json, user_id: str) -> Json:
        """An ephemeral/error command result: only its sender ever sees it."""
        with self._lock:
            self.private[message["id"]] = copy.deepcopy(message)
            self.publish("message.new", cid=message["cid"], message=message, visible_to=user_id)
            return copy.deepcopy(message)

    def get_message(self, message_id: str, op: str = "GetMessage") -> Json:
        with self._lock:
            if message_id not in self.messages:
                raise fail(op, 404, 16, f"message with id {message_id} not found")
            return copy.deepcopy(self.messages[message_id])

    def update_partial(self, message_id: str, body: Json, persist: bool = True) -> Json:
        op = "UpdateMessagePartial" if persist else "EphemeralMessageUpdate"
        with self._lock:
            updated = model.apply_partial(self.get_message(message_id, op), body, op)
            return self._save_update(updated, op, persist)

    def update_full(self, message_id: str, data: Json) -> Json:
        with self._lock:
            updated = model.apply_full(self.get_message(message_id, "UpdateMessage"), data)
            return self._save_update(updated, "UpdateMessage", persist=True)

    def get_replies(self, parent_id: str, opts: Json) -> list[Json]:
        with self._lock:
            ids = model.page(self._replies.get(parent_id, []), opts, DEFAULT_REPLIES_LIMIT)
            return [copy.deepcopy(self.messages[i]) for i in ids]

    def _save_update(self, message: Json, op: str, persist: bool) -> Json:
        model.check_length(op, message, self._max_length(message["cid"]))
        if persist:
            self.messages[message["id"]] = message
        self._record(message, op, persisted=persist)
        self.publish("message.updated", cid=message["cid"], message=message, ephemeral=not persist)
        return copy.deepcopy(message)

    def _record(self, message: Json, op: str, persisted: bool) -> None:
        if persisted:
            self.writes[op] += 1
        entry = {"op": op, "persisted": persisted, "at": now(), "message": copy.deepcopy(message)}
        self.history.setdefault(message["id"], []).append(entry)

    def _link(self, message: Json) -> None:
        parent_id = message.get("parent_id")
        if not parent_id or message.get("show_in_channel"):
            self._timeline[message["cid"]].append(message["id"])
        if parent_id:
            self._replies.setdefault(parent_id, []).append(message["id"])
            self.messages[parent_id]["reply_count"] += 1

    def _check_new_id(self, message_id: str | None) -> None:
        if message_id is None:
            return
        model.check_message_id(message_id)
        if message_id in self.messages or message_id in self.private:
            raise fail("SendMessage", 400, 4, f"a message with ID {message_id} already exists")

    def _parent(self, parent_id: str | None, cid: str) -> Json | None:
        if not parent_id:
            return None
        parent = self.messages.get(parent_id)
        if parent is None or parent["cid"] != cid:
            raise fail("SendMessage", 400, 4, f"parent message {parent_id} doesn't exist")
        if parent.get("parent_id"):
            raise fail("SendMessage", 400, 21, "only one level of thread replies is supported")
        return parent

    def _max_length(self, ctype_or_cid: str) -> int:
        ctype = self.channel_types.get(ctype_or_cid.partition(":")[0], {})
        return int(ctype.get("max_message_length", model.DEFAULT_MAX_MESSAGE_LENGTH))

    # -- events and webhook calls ------------------------------------------------------

    def send_event(self, ctype: str, channel_id: str, data: Json) -> Json:
        with self._lock:
            channel = self._existing_channel(ctype, channel_id, "SendEvent")
            user = self.ensure_user(model.author(data, op="SendEvent"))
            event = model.new_event(channel, data, user)
            self.events.append(event)
            self.publish("event", cid=channel["cid"], event=event)
            return copy.deepcopy(event)

    def record_hook(self, call: Json) -> None:
        with self._lock:
            self.hook_calls.append(copy.deepcopy(call))
            self.publish("hook", **call)
