"""Writes one streamed answer into a channel as the bot, the way Stream's AI UI expects.

Placeholder message (`ai_generated`) → `ai_indicator.update` THINKING → GENERATING at the
first token, whose text is shown at once → broadcast-only intermediate text at most once per
interval after it → one persisted final text with `generating: false` → `ai_indicator.clear`.
Text past the channel's length limit continues in follow-up messages with ids derived from
the first.

Under the app's shared write budget (see write_budget.py) an intermediate update is skipped
when no token is free, and the next one carries the newer text; everything else waits for
its token, so a busy app shows fewer steps of growth but never loses text.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from gptbot.core.states import ERROR, GENERATING, THINKING
from gptbot.core.steps import Step, ToolStep
from gptbot.stream.api import MessageExists, StreamApi, is_transient
from gptbot.stream.reply_steps import ReplySteps

log = logging.getLogger(__name__)
REPLY_PREFIX = "gpt-"  # every reply id (and so every part of a reply) starts with this
FINAL_WRITE_WAITS = (0.25, 0.5, 1.0, None)  # four tries of a final write; None: no more
WITHDRAWN = "…"  # what a withdrawn follow-up part keeps (Stream has no empty messages)


def reply_id_for(source: str) -> str:
    """Deterministic, from the question's message id: a retried job finds its earlier reply
    (Stream answers code 4). Ids Stream would not accept are hashed."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,200}", source):
        return REPLY_PREFIX + source
    return REPLY_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    channel_type: str
    channel_id: str
    reply_id: str
    parent_id: str | None
    bot_user_id: str

    @property
    def cid(self) -> tuple[str, str]:
        return (self.channel_type, self.channel_id)

    def part_id(self, index: int) -> str:
        return self.reply_id if index == 0 else f"{self.reply_id}-{index + 1}"


class ReplyWriter:
    def __init__(
        self,
        stream: StreamApi,
        target: ReplyTarget,
        interval: float,
        max_length: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stream = stream
        self.target = target
        self.interval = interval
        self.max_length = max_length
        self.clock = clock
        self.sleep = sleep
        self.text = ""  # the text of the current part only
        self.part = 0
        self.state = ""
        # The first text goes out at once: the throttle starts with it, not with the
        # placeholder, or the first words would wait up to one interval for nothing.
        self.last_flush = float("-inf")
        self.flushed_text = ""
        self.steps = ReplySteps()  # tool calls and reasoning of the current part

    @property
    def message_id(self) -> str:
        return self.target.part_id(self.part)

    def begin(self) -> bool:
        """Post the placeholder; False when an earlier attempt already finished this reply."""
        if not self._create_part(""):
            existing = self.stream.get_message(self.message_id)
            if existing.get("text") and not existing.get("generating"):
                return False
        self.set_state(THINKING)
        return True

    def post_placeholder(self) -> bool:
        """Only the empty placeholder, for a reply still waiting in the queue; False when
        it is there already (another worker said so, or the answer began)."""
        return self._create_part("")

    def add(self, delta: str) -> None:
        if not delta:
            return
        if self.state != GENERATING:
            self.set_state(GENERATING)
        self.text += delta
        while len(self.text) > self.max_length:
            self._continue_in_next_part()
        if self.clock() - self.last_flush >= self.interval:
            self._flush()

    def show_step(self, step: Step) -> None:
        """A tool call's start and end go out at once (each is news); reasoning at the pace
        of the text."""
        self.steps.show(step)
        if isinstance(step, ToolStep):
            self._flush(urgent=True)
        elif self.clock() - self.last_flush >= self.interval:
            self._flush()

    def set_state(self, state: str, message: str = "") -> None:
        self.state = state
        # ai_message is Stream's optional free text beside the state ("2 answers ahead…").
        extra = {"ai_message": message} if message else {}
        self._event("ai_indicator.update", ai_state=state, **extra)

    def finish(self, note: str = "") -> None:
        self.steps.settle()
        self._persist(self._with_note(note), final=True)
        self._event("ai_indicator.clear")

    def replace(self, text: str) -> None:
        """Withdraw everything written so far and end with exactly `text`: the first part
        becomes `text`, any follow-up parts `WITHDRAWN` (e.g. a refused answer)."""
        last = self.part
        self.part, self.text = 0, ""
        self._persist(text, final=True)
        for part in range(1, last + 1):
            self.part = part
            self._persist(WITHDRAWN, final=True)
        self._event("ai_indicator.clear")
        self.part = 0

    def fail(self, note: str) -> None:
        """Keep whatever was generated, say briefly what went wrong, never stay 'generating'."""
        self.set_state(ERROR)
        self.steps.settle()
        self._persist(self._with_note(note), final=True)

    def _with_note(self, note: str) -> str:
        text = self.text.rstrip()
        if not note:
            return text or "…"
        # A note that would not fit is dropped rather than pushing text into another part.
        combined = f"{text}\n\n_{note}_" if text else note
        return combined if len(combined) <= self.max_length else text

    def _create_part(self, text: str) -> bool:
        message = {"id": self.message_id, "text": text, "ai_generated": True, "generating": True}
        if self.target.parent_id:
            message["parent_id"] = self.target.parent_id
        try:
            self.stream.send_message(self.target.cid, message, self.target.bot_user_id)
        except MessageExists:
            return False
        return True

    def _continue_in_next_part(self) -> None:
        cut = split_point(self.text, self.max_length)
        head, self.text = self.text[:cut].rstrip(), self.text[cut:].lstrip()
        self._persist(head, final=True)
        self.part += 1
        self.steps = ReplySteps()  # the next part's own steps
        try:
            self._create_part("")
        except Exception:  # e.g. the thread's parent is gone: a failure note goes on the last part
            self.part -= 1
            self.text = head + "\n\n" + self.text
            raise
        self._event("ai_indicator.update", ai_state=GENERATING)

    def _flush(self, urgent: bool = False) -> None:
        self.last_flush = self.clock()
        if self.text == self.flushed_text and not self.steps.changed:
            return
        fields = {"text": self.text, "generating": True, **self.steps.fields()}
        try:
            if self._broadcast(fields, urgent):
                self.flushed_text, self.steps.changed = self.text, False
        except Exception as exc:  # an intermediate update is best effort: the final one counts
            log.warning("intermediate update of %s failed: %s", self.message_id, exc)

    def _broadcast(self, fields: dict[str, object], urgent: bool = False) -> bool:
        """False when the write budget had no token free: coalesced into the next flush.
        The first text and a tool call's news skip this process's own cap."""
        return self.stream.try_show_update(self.message_id, fields, self.target.bot_user_id,
                                           first=urgent or not self.flushed_text)

    def _persist(self, text: str, final: bool) -> None:
        """A final write that Stream refuses (5xx, timeouts) is tried again with backoff,
        beyond the API's own retries: it is what ends `generating`. If it still fails, the
        exception ends the attempt and the job's re-run writes the reply (same ids)."""
        fields = {"text": text, "generating": not final, **self.steps.fields()}
        for wait in FINAL_WRITE_WAITS:
            try:
                self.stream.update_message(self.message_id, fields, self.target.bot_user_id)
                break
            except Exception as exc:
                if not is_transient(exc) or wait is None:
                    raise
                log.warning("final write of %s failed (%s); again in %.2g s",
                            self.message_id, exc, wait)
                self.sleep(wait)
        self.flushed_text, self.steps.changed = text, False

    def _event(self, kind: str, **fields: str) -> None:
        event = {"type": kind, "message_id": self.message_id, "cid": ":".join(self.target.cid)}
        try:
            self.stream.send_event(self.target.cid, {**event, **fields}, self.target.bot_user_id)
        except Exception as exc:  # the indicator is cosmetic; the message itself is what matters
            log.warning("%s event for %s failed: %s", kind, self.message_id, exc)


def split_point(text: str, limit: int) -> int:
    """Where to cut text longer than limit: the last paragraph, line, sentence or word break."""
    window = text[:limit]
    for separator in ("\n\n", "\n", ". ", " "):
        at = window.rfind(separator)
        if at >= limit // 2:
            return at + len(separator)
    return limit
