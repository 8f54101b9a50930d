"""Speaking an answer sentence by sentence while its text still streams in, so that when
the text is final only its last sentence is left to synthesize.

`feed` takes the text so far (called as often as the answer updates); every sentence that
is complete and certain to be spoken starts at once, on `executor` when one is given (the
answer loop must not wait for it), else inline. `finish` speaks what is left of the final
text's spoken form and joins it all; a sentence spoken early but missing from the final
form (the markdown around it changed) is simply not used.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gptbot.voice.errors import SpeechFailed, VoiceError
from gptbot.voice.speech_text import FULL_ANSWER, sentences, speakable, spoken_text

if TYPE_CHECKING:
    from gptbot.voice.audio import Samples
    from gptbot.voice.tts import Speaker

PAUSE_S = 0.25  # between sentences


@dataclass(frozen=True)
class Speech:
    samples: Samples
    sample_rate: int
    text: str  # what was spoken

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class SentenceSynthesizer:
    def __init__(self, speaker: Speaker, max_chars: int, executor: Executor | None = None):
        self.speaker = speaker
        self.max_chars = max_chars
        self.executor = executor
        self._started: dict[str, Future[Samples]] = {}

    def feed(self, text_so_far: str) -> None:
        for sentence in self._certain(text_so_far):
            self._start(sentence)

    def finish(self, final_text: str) -> Speech:
        """All of the final text's spoken form; raises SpeechFailed."""
        text = spoken_text(final_text, self.max_chars)
        parts = sentences(text)
        if not parts:
            raise SpeechFailed("nothing to speak in the answer")
        for sentence in parts:
            self._start(sentence)
        return Speech(self._joined([self._result(s) for s in parts]),
                      self.speaker.sample_rate, text)

    def _certain(self, text_so_far: str) -> list[str]:
        """Complete sentences (another has begun after them) that fit the spoken length
        however the answer ends: the same prefix `capped` will keep."""
        complete = sentences(speakable(text_so_far))[:-1]
        room, kept = self.max_chars - len(FULL_ANSWER) - 1, list[str]()
        for sentence in complete:
            if len(" ".join([*kept, sentence])) > room:
                break
            kept.append(sentence)
        return kept

    def _start(self, sentence: str) -> None:
        if sentence in self._started:
            return
        if self.executor is not None:
            self._started[sentence] = self.executor.submit(self.speaker.synthesize, sentence)
            return
        done: Future[Samples] = Future()
        try:
            done.set_result(self.speaker.synthesize(sentence))
        except Exception as exc:  # kept for finish(), which reports it
            done.set_exception(exc)
        self._started[sentence] = done

    def _result(self, sentence: str) -> Samples:
        try:
            return self._started[sentence].result()
        except VoiceError:
            raise
        except Exception as exc:  # an engine's own error: the text answer must stand
            raise SpeechFailed(f"synthesis failed: {type(exc).__name__}: {exc}") from exc

    def _joined(self, pieces: list[Samples]) -> Samples:
        import numpy as np

        pause = np.zeros(int(PAUSE_S * self.speaker.sample_rate), dtype=np.float32)
        joined = [part for piece in pieces for part in (piece, pause)][:-1]
        return np.concatenate(joined).astype(np.float32)
