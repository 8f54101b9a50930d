"""The moderation steps of one answer (GPTBOT_MODERATION, see docs/safety.md).

The question is checked before the model is called (`blocking`) or while it answers
(`parallel`: the check runs in a thread; a flagged verdict ends the answer at the next look
for a stop, and the verdict is awaited before the final write at the latest); the answer —
a stopped one's text so far included — is checked before its final write. A flagged text
ends the job with `Refused`: the reply is replaced by a neutral refusal (no category names),
nothing is remembered or cached. When moderation is down, `closed` refuses and `open` answers
with a warning in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from gptbot.config import Config
from gptbot.core.errors import GptBotError
from gptbot.jobs.classifier import ModelClassifier
from gptbot.llm.providers import Provider
from gptbot.llm.providers.http import pooled_session
from gptbot.safety import Redactor
from gptbot.safety.moderation import ModerationUnavailable, Moderator, Verdict, build_moderator

log = logging.getLogger(__name__)
QUESTION_REFUSED = "Sorry, I can't help with that here."
ANSWER_REFUSED = "Sorry, I can't share that answer here."
QUESTION_UNCHECKED = ModerationUnavailable.user_message
ANSWER_UNCHECKED = "Sorry, I can't check this answer right now; please try again later."


class Refused(GptBotError):
    """Moderation flagged the question or the answer, or could not check it (closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class Moderation:
    """The configured moderator, shared by every job; `screen(question)` starts one job's."""

    def __init__(self, moderator: Moderator | None, mode: str = "blocking",
                 on_error: str = "closed", redactor: Redactor | None = None) -> None:
        self.moderator = moderator
        self.parallel = mode == "parallel"
        self.fail_open = on_error == "open"
        self.redactor = redactor
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_config(cls, config: Config, redactor: Redactor | None = None,
                    model: Provider | None = None) -> Moderation:
        """`model`: the embedded model, for GPTBOT_MODERATION_CLASSIFIER."""
        safety = config.safety
        moderator = build_moderator(
            safety.moderation, base_url=config.openai_base_url, api_key=config.openai_api_key,
            model=safety.moderation_model, thresholds=safety.moderation_thresholds,
            blocklist=safety.blocklist, attempts=config.llm_max_retries,
            session=pooled_session(config.concurrency))
        if moderator is not None and safety.classifier and model is not None:
            moderator = Moderator([*moderator.checks, ModelClassifier(model, config.model)])
        return cls(moderator, safety.moderation_mode, safety.moderation_on_error, redactor)

    def screen(self, question: str) -> Screening:
        return Screening(self, question)

    def check(self, text: str) -> Verdict:
        """What the moderator says of `text` (redacted first: it leaves for a provider)."""
        assert self.moderator is not None
        if self.redactor is not None and self.redactor.enabled:
            text = self.redactor.redact(text)
        return self.moderator.check(text)

    def submit(self, text: str) -> Future[Verdict]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="moderation")
        return self._pool.submit(self.check, text)


class Screening:
    """One job's checks; `verdicts` are what the audit record keeps."""

    def __init__(self, moderation: Moderation, question: str) -> None:
        self.moderation = moderation
        self.question = question
        self.verdicts: list[str] = []
        self._pending: Future[Verdict] | None = None

    @property
    def active(self) -> bool:
        return self.moderation.moderator is not None

    def start(self) -> None:
        """Blocking: check the question now (raises Refused). Parallel: start checking it."""
        if not (self.active and self.question.strip()):
            return
        if self.moderation.parallel:
            self._pending = self.moderation.submit(self.question)
        else:
            self._judge("question", lambda: self.moderation.check(self.question))

    def poll(self) -> None:
        """Parallel: act on the question's verdict as soon as it is in (raises Refused), so a
        flagged question stops its answer mid-stream rather than at its end."""
        if self._pending is not None and self._pending.done():
            pending, self._pending = self._pending, None
            self._judge("question", pending.result)

    def finish(self, answer: str) -> None:
        """Before the final write: the question's verdict (parallel), then the answer's."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._judge("question", pending.result)
        if self.active and answer.strip():
            self._judge("answer", lambda: self.moderation.check(answer))

    def _judge(self, stage: str, verdict_of: Callable[[], Verdict]) -> None:
        try:
            verdict = verdict_of()
        except ModerationUnavailable as exc:
            self._unavailable(stage, exc)
            return
        self.verdicts.append(f"{stage}:{verdict.describe()}")
        if verdict.flagged:
            log.warning("moderation flagged the %s (%s)", stage, verdict.describe())
            raise Refused(QUESTION_REFUSED if stage == "question" else ANSWER_REFUSED)

    def _unavailable(self, stage: str, exc: ModerationUnavailable) -> None:
        self.verdicts.append(f"{stage}:unavailable")
        if not self.moderation.fail_open:
            log.warning("moderation unavailable, the %s is refused: %s", stage, exc)
            raise Refused(QUESTION_UNCHECKED if stage == "question" else ANSWER_UNCHECKED)
        log.warning("moderation unavailable, the %s passes unchecked: %s", stage, exc)
