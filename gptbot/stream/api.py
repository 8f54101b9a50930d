"""The one door to Stream: every call gptbot makes, through the stream-chat SDK, retried;
nothing else in gptbot touches the SDK client.

The SDK retries nothing on 429/5xx, so each call here is wrapped in a tenacity policy
(retry.py): connection errors, timeouts, 429 and 5xx are retried, after a 429 once Stream's
window resets (its X-RateLimit-Reset or Retry-After), otherwise with jittered exponential
backoff; any other 4xx is final.

With a `WriteBudget` (built from the limits store) every write takes a token of the app's
shared budget first, and a 429 on a write is the budget's to handle: hold the bucket for every
process until Stream's reset, then retry (must-writes) or drop (intermediate updates).

A message goes out with a deterministic id: a re-run finds it (`MessageExists`, `_already_sent`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from gptbot.config import Config
from gptbot.stream import write_budget as budgets
from gptbot.stream.errors import error_code, error_text
from gptbot.stream.rate_reset import RateLimitReset
from gptbot.stream.retry import (
    WaitForReset,
    is_rate_limit,
    is_transient,
    is_transient_write,
    retry_policy,
)
from gptbot.stream.transport import HotWrites, keep_alive
from gptbot.stream.write_budget import EVENTS, MESSAGES, TokenBuckets, WriteBudget
from gptbot.telemetry import Telemetry

__all__ = ["MessageExists", "StreamApi", "error_code", "error_text", "is_rate_limit",
           "is_transient", "is_transient_write"]
log = logging.getLogger(__name__)
T = TypeVar("T")

INPUT_ERROR = 4  # Stream's generic input error; "a message with ID … already exists" is one
MESSAGE_TOO_LONG = 20


class MessageExists(Exception):
    """A message with our deterministic id is already there: an earlier attempt sent it."""


class StreamApi:
    def __init__(
        self,
        client: StreamChat,
        attempts: int = 5,
        max_wait: float = 8.0,
        budget: WriteBudget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        telemetry: Telemetry | None = None,
        updates: budgets.ProcessRate | None = None,
    ) -> None:
        """`max_wait` caps the backoff between quick retries; a 429 waits for its reset."""
        self.client = client
        self.telemetry = telemetry or Telemetry.off()
        self.budget = budget  # None (tests, tools): writes go out unbudgeted, as they come
        self.updates = updates  # this process's cap on skippable updates; None: no cap
        # Cleared the first time Stream refuses the ephemeral endpoint (older plans/regions).
        self._broadcast_supported = True
        self._message_limits: dict[str, int] = {}
        self._reset = RateLimitReset(clock)
        self._reset.attach(getattr(client, "session", None))
        self.hot = HotWrites(client, self._reset.record)
        wait = WaitForReset(self._reset, clock, max_wait)
        self._retrying = retry_policy(is_transient, attempts, wait, sleep)
        self._retrying_writes = retry_policy(
            is_transient_write if budget else is_transient, attempts, wait, sleep
        )

    @classmethod
    def from_config(
        cls,
        config: Config,
        attempts: int = 5,
        *,
        limits: TokenBuckets | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        telemetry: Telemetry | None = None,
    ) -> StreamApi:
        """With `limits` (the store's LimitStore) writes share the app's per-minute budget."""
        options: dict[str, Any] = {}
        if config.stream_chat_url:
            options["base_url"] = config.stream_chat_url
        client = StreamChat(config.stream_api_key, config.stream_api_secret, **options)
        keep_alive(client, config.concurrency)
        budget = None
        if limits is not None:
            budget = WriteBudget(limits, config.stream_api_key, config.stream_writes_per_min,
                                 config.stream_events_per_min, clock=clock, sleep=sleep)
        return cls(client, attempts=attempts, budget=budget, clock=clock, sleep=sleep,
                   telemetry=telemetry, updates=budgets.ProcessRate(config.process_updates_per_s))

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._retrying(self._observed(fn), *args, **kwargs)

    def _observed(self, fn: Callable[..., T]) -> Callable[..., T]:
        """Counts every error Stream answers, retried or not, by its code."""
        def observed(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except StreamAPIException as exc:
                self.telemetry.stream_error(error_code(exc) or exc.status_code)
                raise
        return observed

    def must_write(self, kind: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A write that must go out: wait for a token; after a 429 hold everyone until the
        reset and retry. Past the budget's max wait it goes ahead and Stream's answer stands."""
        fn = self._observed(fn)
        if self.budget is None:
            return self._retrying_writes(fn, *args, **kwargs)
        deadline = self.budget.deadline()
        while True:
            self.budget.wait_for(kind, deadline)
            try:
                result = self._retrying_writes(fn, *args, **kwargs)
            except StreamAPIException as exc:
                if not is_rate_limit(exc):
                    raise
                self.budget.rate_limited(kind, self._reset.latest())
                if self.budget.expired(deadline):
                    raise
                continue
            self.budget.sent(kind)
            return result

    def try_write(self, fn: Callable[..., object], *args: Any, first: bool = False,
                  **kwargs: Any) -> bool:
        """A message write that may be skipped: only with a token free, dropped on a 429.
        A reply's `first` text skips this process's own cap (it shows at once)."""
        fn = self._observed(fn)
        if self.updates is not None and not first and not self.updates.take():
            self.telemetry.stream_write("throttled")
            return False
        if self.budget is None:
            self._retrying_writes(fn, *args, **kwargs)
            return True
        if not self.budget.try_update():
            self.telemetry.stream_write("throttled")
            return False
        try:
            self._retrying_writes(fn, *args, **kwargs)
        except StreamAPIException as exc:
            if not is_rate_limit(exc):
                raise
            self.budget.rate_limited(MESSAGES, self._reset.latest())
            self.budget.skipped()
            self.telemetry.stream_write("throttled")
            return False
        self.budget.sent(MESSAGES)
        return True

    def message_limit(self, channel_type: str, ceiling: int) -> int:
        """The channel type's max_message_length (never above `ceiling`), read once per type:
        the endpoint allows 60 calls a minute. Unreadable → the ceiling, Stream's default."""
        if channel_type not in self._message_limits:
            self._message_limits[channel_type] = self._read_limit(channel_type, ceiling)
        return min(self._message_limits[channel_type], ceiling)

    def _read_limit(self, channel_type: str, default: int) -> int:
        try:
            value = self.client.get_channel_type(channel_type).get("max_message_length")  # once
        except (StreamAPIException, requests.RequestException) as exc:
            log.warning("could not read the message limit of %r: %s", channel_type, exc)
            return default
        return value if isinstance(value, int) and value > 0 else default

    def send_message(self, cid: tuple[str, str], message: dict[str, Any], user_id: str) -> dict:
        """Posts the message; MessageExists when its id is taken by our earlier attempt."""
        body = {"message": {**message, "user": {"id": user_id}}, "skip_push": True}
        try:
            sent = self.must_write(MESSAGES, self.hot.post, _channel_path(cid, "message"),
                                   body)["message"]
            self.telemetry.stream_write("persisted")
            return sent
        except StreamAPIException as exc:
            if "id" in message and self._already_sent(exc, message["id"], user_id):
                raise MessageExists(message["id"]) from exc
            raise

    def _already_sent(self, exc: StreamAPIException, message_id: str, user_id: str) -> bool:
        """Code 4 means a duplicate id only when Stream says so or the id reads back as ours;
        any other input error (a deleted thread parent, say) is a real error."""
        if exc.status_code != 400 or error_code(exc) != INPUT_ERROR:
            return False
        if "already exists" in error_text(exc).lower():
            return True
        return self._sent_by(message_id, user_id)

    def _sent_by(self, message_id: str, user_id: str) -> bool:
        try:
            existing = self.get_message(message_id)
        except (StreamAPIException, requests.RequestException) as exc:  # 404: not there
            log.info("message %s not readable (%s): not a duplicate", message_id, exc)
            return False
        author = (existing.get("user") or {}).get("id") or existing.get("user_id")
        return bool(author == user_id)

    def get_message(self, message_id: str) -> dict[str, Any]:
        return self.call(self.client.get_message, message_id)["message"]

    def update_message(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        """A persisted partial update (one database write on Stream's side)."""
        self.must_write(MESSAGES, self._update, message_id, fields, user_id)

    def broadcast_update(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        """Stream's ephemeral update: every watcher sees it, nothing is written to the database."""
        self.must_write(MESSAGES, self._broadcast, message_id, fields, user_id)

    def show_update(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        """An intermediate update that must go out (waits for the budget)."""
        self.must_write(MESSAGES, self._show, message_id, fields, user_id)

    def try_show_update(self, message_id: str, fields: dict[str, Any], user_id: str,
                        first: bool = False) -> bool:
        """An intermediate update, sent only when the app's budget has a token free; False =
        skipped (or dropped on a 429): the next update carries the newer text anyway."""
        return self.try_write(self._show, message_id, fields, user_id, first=first)

    def _update(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        self.hot.put(f"messages/{message_id}", {"set": fields, "user": {"id": user_id}})
        self.telemetry.stream_write("persisted")

    def _broadcast(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        body = {"set": fields, "user": {"id": user_id}}
        self.hot.patch(f"messages/{message_id}/ephemeral", body)
        self.telemetry.stream_write("broadcast")

    def _show(self, message_id: str, fields: dict[str, Any], user_id: str) -> None:
        """Broadcast only, or persisted once Stream has refused the ephemeral endpoint
        (remembered for the life of this process). One budget token pays for either."""
        if self._broadcast_supported:
            try:
                self._broadcast(message_id, fields, user_id)
                return
            except StreamAPIException as exc:
                if is_transient(exc):
                    raise
                log.warning("ephemeral update refused (%s); using persisted updates", exc)
                self._broadcast_supported = False
        self._update(message_id, fields, user_id)

    def send_event(self, cid: tuple[str, str], event: dict[str, Any], user_id: str) -> None:
        body = {"event": {**event, "user": {"id": user_id}}}
        self.must_write(EVENTS, self.hot.post, _channel_path(cid, "event"), body)
        self.telemetry.stream_write("event")

    def channel_messages(self, cid: tuple[str, str], limit: int) -> list[dict[str, Any]]:
        channel = self.client.channel(*cid)
        return list(self.call(channel.query, messages={"limit": limit})["messages"])

    def thread_replies(
        self, cid: tuple[str, str], parent_id: str, limit: int
    ) -> list[dict[str, Any]]:
        channel = self.client.channel(*cid)
        return list(self.call(channel.get_replies, parent_id, limit=limit)["messages"])

    def channel_members(self, cid: tuple[str, str]) -> list[dict[str, Any]]:
        """Its first 100 members, each with its `user` (id, name, role) and `channel_role`."""
        return list(self.call(self.client.channel(*cid).query_members, {}, limit=100))

    def add_members(self, cid: tuple[str, str], user_ids: list[str]) -> None:
        self.call(self.client.channel(*cid).add_members, user_ids)

    def app_settings(self) -> dict[str, Any]:
        return dict(self.call(self.client.get_app_settings).get("app", {}))

    def update_app_settings(self, **settings: Any) -> None:
        self.call(self.client.update_app_settings, **settings)

    def upsert_user(self, user: dict[str, Any]) -> None:
        self.call(self.client.upsert_user, user)

    def find_user(self, user_id: str) -> dict[str, Any] | None:
        users = self.call(self.client.query_users, {"id": user_id})["users"]
        return users[0] if users else None

    def commands(self) -> list[dict[str, Any]]:
        return list(self.call(self.client.list_commands)["commands"])

    def create_command(self, command: dict[str, Any]) -> None:
        self.call(self.client.create_command, command)

    def update_command(self, name: str, **fields: Any) -> None:
        self.call(self.client.update_command, name, **fields)

    def channel_type(self, name: str) -> dict[str, Any]:
        return dict(self.call(self.client.get_channel_type, name))

    def update_channel_type(self, name: str, **fields: Any) -> None:
        self.call(self.client.update_channel_type, name, **fields)


def _channel_path(cid: tuple[str, str], what: str) -> str:
    return f"channels/{cid[0]}/{cid[1]}/{what}"
