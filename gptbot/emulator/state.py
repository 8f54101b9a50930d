"""The in-memory Stream Chat app behind the emulator: one lock, plain dicts, a change feed.

Every method takes the lock and hands out deep copies, so REST threads, the command
player and the playground can share one instance without seeing torn state. The app
catalogue is catalog.py's, channels and events channels.py's; messages are here.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from gptbot.emulator import model
from gptbot.emulator.channels import ChannelStore
from gptbot.emulator.errors import ApiError, FaultInjector, fail
from gptbot.emulator.files import FileStore
from gptbot.emulator.model import now
from gptbot.emulator.rate_limits import RateLimiter
from gptbot.emulator.webhooks import DEFAULT_BACKOFF_S

Json = dict[str, Any]
# Writes that reach Stream's database; the ephemeral PATCH is deliberately not one of them.
PERSISTED_OPS = frozenset({"SendMessage", "UpdateMessagePartial", "UpdateMessage"})
DEFAULT_QUERY_LIMIT = 25
DEFAULT_REPLIES_LIMIT = 25


def missing_message(op: str, message_id: str) -> ApiError:
    """Stream answers a missing message with its generic input error, code 4, not the error
    table's 404/16: `GetReplies failed with error: "Message with id undefined doesn't exist"`
    (GetStream/stream-chat-react-native issue #2257). Code 4 is HTTP 400 in the table
    (docs api_errors_response), and spec-v1 declares only 400 and 429 errors per operation."""
    return fail(op, 400, 4, f"Message with id {message_id} doesn't exist")


class EmulatorState(ChannelStore):
    """One fake Stream app. Public attributes tests may read (copy before mutating):

    requests: REST calls per Stream operation name; writes / persisted_writes: stored
    message writes; messages, private (ephemeral/error command results), channels, members
    (per cid, per user id), events,
    history (per message id, every update incl. ephemeral ones), hook_calls; feed / changes;
    connections (client WebSockets and the channels they watch; they get channel events);
    files (uploaded channel files, served from signed /cdn/ URLs on the emulator's host).

    Rate limits: `rate_limits` (per family per minute, merged over Stream's defaults, None =
    unlimited) and `clock` (Unix seconds, replaceable any time); `rate_limiter` has the counts
    (`rate_limiter.bursts = True` adds Stream's per-second budgets).
    Webhooks: `webhook_backoff_s`, the pause before the first retry (doubled after).
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
        self.webhook_backoff_s = DEFAULT_BACKOFF_S  # the pause before a webhook retry
        self.clock = clock
        # Through a lambda so a test that swaps state.clock later moves the windows too.
        self.rate_limiter = RateLimiter(rate_limits, clock=lambda: self.clock())
        self.requests: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.faults = FaultInjector()
        self.inject_fault = self.faults.add  # the tests' short way to provoke an error
        self.files = FileStore(api_secret, clock=lambda: self.clock())  # uploads, by id
        self.messages: dict[str, Json] = {}
        self.private: dict[str, Json] = {}
        self.history: dict[str, list[Json]] = {}
        self.hook_calls: list[Json] = []
        self._replies: dict[str, list[str]] = {}  # parent id -> ids of its replies

    # -- counters ----------------------------------------------------------------------

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

    def query_channel(self, ctype: str, channel_id: str, data: Json, opts: Json) -> Json:
        with self._lock:
            channel = self.get_or_create_channel(ctype, channel_id, data)
            ids = model.page(self._timeline[channel["cid"]], opts, DEFAULT_QUERY_LIMIT)
            messages = [copy.deepcopy(self.messages[i]) for i in ids]
            members = self._member_views(channel["cid"])
            empty: Json = {"read": [], "pinned_messages": [], "watcher_count": 0}
            return {"channel": channel, "messages": messages, "members": members, **empty}

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
                raise missing_message(op, message_id)
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
            if parent_id not in self.messages:
                raise missing_message("GetReplies", parent_id)
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

    # -- webhook calls -----------------------------------------------------------------

    def record_hook(self, call: Json) -> None:
        with self._lock:
            self.hook_calls.append(copy.deepcopy(call))
            self.publish("hook", **call)
