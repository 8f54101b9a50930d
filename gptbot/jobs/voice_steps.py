"""The answer job's voice steps (issue 15; docs/voice.md): before planning, hear the
recording the command is about, so that its transcript becomes the job's question (memory,
tools, limits and moderation all see it); after the final text, speak the answer and attach
the audio to the reply.

Whisper and the voice model compute for about a second each: they run on real OS threads
(gevent's native pool under `gptbot worker`), never on the hub every answer shares.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from gptbot.core.steps import Step
from gptbot.costs.accountant import Accountant
from gptbot.jobs.job import AnswerJob
from gptbot.llm.generation import TextSink
from gptbot.stream.api import StreamApi
from gptbot.stream.files import upload_file
from gptbot.stream.reply import ReplyWriter
from gptbot.voice.errors import NothingToHear, SpeechFailed, VoiceError
from gptbot.voice.service import Heard, VoiceService, voice_attachment, voice_question
from gptbot.voice.synthesis import SentenceSynthesizer
from gptbot.voice.trigger import find_voice, voice_of
from gptbot.voice.usage import VoiceUsage

log = logging.getLogger(__name__)
T = TypeVar("T")
Message = dict[str, Any]
TEXT_ONLY_NOTE = "(Voice is not set up here, so this answer is text only.)"
POOL_THREADS = 2  # the machine's cores, not the answers': each engine call is CPU-bound


class VoiceSteps:
    def __init__(self, service: VoiceService, stream: StreamApi, bot_user_id: str,
                 accountant: Accountant | None = None) -> None:
        self.service = service
        self.stream = stream
        self.bot_user_id = bot_user_id
        self.accountant = accountant
        self._pool: Executor | None = None  # started at the first voice step, not at fork
        self._lock = threading.Lock()

    def hear(self, job: AnswerJob) -> tuple[AnswerJob, Heard | None]:
        """The job with the transcript as its question, and what was heard (None: no
        recording). Raises a VoiceError whose user_message is the reply."""
        if self.service.transcriber is None and job.question:
            return job, None  # voice is off here: the typed question is the question
        started, sources = time.monotonic(), self._sources(job)
        # Decoding and Whisper run on a native thread; a text question needs none.
        heard = self.in_pool(self.service.hear, *sources) if find_voice(*sources) else None
        if heard is None:
            if not job.question:
                raise NothingToHear("no question and no recording")
            return job, None
        log.info("heard %.1f s of audio for %s in %.2f s%s", heard.seconds, job.reply_id,
                 time.monotonic() - started, "" if heard.usage else " (cached)")
        self._account(job, heard.usage)
        return replace(job, question=voice_question(heard.transcript, job.question)), heard

    def sink(self, job: AnswerJob, writer: ReplyWriter) -> TextSink:
        """The reply writer, fed to a synthesizer as well when a spoken answer is wanted."""
        if not job.spoken or self.service.speaker is None:
            return writer
        synthesizer = self.service.synthesizer(self.pool())
        return SpokenAnswer(writer, synthesizer, 2 * self.service.config.spoken_chars)

    def notes(self, job: AnswerJob) -> list[str]:
        return [TEXT_ONLY_NOTE] if job.spoken and self.service.speaker is None else []

    def attach(self, job: AnswerJob, writer: ReplyWriter, spoken: SpokenAnswer, text: str,
               note: str) -> None:
        """The spoken answer on the reply's (last) message; whatever fails, the text stands,
        with a short note."""
        started = time.monotonic()
        try:
            self._attach(job, writer, spoken.synthesizer, text)
        except Exception as exc:  # VoiceError, UploadFailed, StreamAPIException, requests'
            log.warning("no spoken reply for %s: %s", job.reply_id, exc,
                        exc_info=not isinstance(exc, VoiceError))
            self._note(writer, note, exc)
            return
        log.info("spoken reply for %s attached %.2f s after the text", job.reply_id,
                 time.monotonic() - started)

    def in_pool(self, function: Callable[..., T], *args: Any) -> T:
        return self.pool().submit(function, *args).result()

    def pool(self) -> Executor:
        with self._lock:
            if self._pool is None:
                self._pool = native_pool(POOL_THREADS)
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
            self._pool = None
        close_cache = getattr(self.service.cache, "close", None)  # the SQLite one has a file
        if close_cache is not None:
            close_cache()

    def _sources(self, job: AnswerJob) -> tuple[Message, Message | None, Message | None]:
        """The command message, then only as needed the quoted message and the thread
        parent: each fetch is a REST call."""
        message = job.command_message()
        quoted = parent = None
        if voice_of(message) is None and job.quoted_message_id \
                and "quoted_message" not in message:
            quoted = self._fetch(job.quoted_message_id)
        if find_voice(message, quoted) is None and job.parent_id:
            parent = self._fetch(job.parent_id)
        return message, quoted, parent

    def _fetch(self, message_id: str) -> Message | None:
        try:
            return self.stream.get_message(message_id)
        except Exception as exc:  # deleted, or Stream is away: answer what is left
            log.warning("could not fetch message %s for its voice note: %s", message_id, exc)
            return None

    def _attach(self, job: AnswerJob, writer: ReplyWriter, synthesizer: SentenceSynthesizer,
                text: str) -> None:
        if _has_recording(self.stream.get_message(writer.message_id)):
            return  # an earlier attempt attached it: no second upload
        # Not in the pool: it waits there for its sentences (a full pool would deadlock);
        # the waits are cooperative and only the short M4A encoding computes here.
        spoken = self.service.speak(text, synthesizer)
        url = upload_file(self.stream, writer.target.cid, spoken.audio, spoken.title,
                          spoken.mime_type, self.bot_user_id)
        self._account(job, spoken.usage)
        # `attachments` replaces the whole list: the answer's AI steps stay beside the audio.
        attachments = [*writer.steps.attachments, voice_attachment(url, spoken)]
        self.stream.update_message(writer.message_id, {"attachments": attachments},
                                   self.bot_user_id)

    def _note(self, writer: ReplyWriter, note: str, exc: Exception) -> None:
        told = exc.user_message if isinstance(exc, VoiceError) else SpeechFailed.user_message
        try:
            writer.finish(" ".join(part for part in (note, told) if part))
        except Exception:  # the text is final already; the note is a courtesy
            log.exception("could not add the voice note to %s", writer.message_id)

    def _account(self, job: AnswerJob, usage: VoiceUsage | None) -> None:
        if usage is None or self.accountant is None:  # a cached transcript cost nothing
            return
        try:
            self.accountant.record_voice(job.tag(), usage)
        except Exception:  # the answer goes on; the books are secondary
            log.exception("could not record %s for %s", usage.purpose, job.reply_id)


class SpokenAnswer:
    """Passes the answer to the reply writer and, as it grows, to the synthesizer, which
    starts each finished sentence at once (only the start of a long answer is spoken)."""

    def __init__(self, writer: ReplyWriter, synthesizer: SentenceSynthesizer,
                 fed_chars: int) -> None:
        self.writer = writer
        self.synthesizer = synthesizer
        self.fed_chars = fed_chars
        self.text = ""

    def add(self, delta: str) -> None:
        self.writer.add(delta)
        self.text += delta
        if len(self.text) <= self.fed_chars:
            self.synthesizer.feed(self.text)

    def set_state(self, state: str, message: str = "") -> None:
        self.writer.set_state(state, message)

    def show_step(self, step: Step) -> None:
        self.writer.show_step(step)


def native_pool(threads: int) -> Executor:
    """Real OS threads, also where gevent has patched `threading` (`gptbot worker`)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey and monkey.is_module_patched("threading"):
        from gevent.threadpool import ThreadPoolExecutor as NativeThreadPool

        return NativeThreadPool(max_workers=threads)
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="voice")


def _has_recording(message: Message) -> bool:
    attachments = message.get("attachments") or []
    return any(isinstance(a, dict) and a.get("type") == "voiceRecording" for a in attachments)
