"""Sentence-by-sentence speech while the answer streams."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from gptbot.voice.errors import SpeechFailed
from gptbot.voice.speech_text import FULL_ANSWER
from gptbot.voice.synthesis import PAUSE_S, SentenceSynthesizer
from tests.voice.conftest import needs_extra
from tests.voice.fakes import BeepSpeaker

pytestmark = needs_extra
ANSWER = "Paris is the capital. It is in France. It has a tower."


def stream(synthesizer: SentenceSynthesizer, text: str, step: int = 7) -> None:
    for end in range(step, len(text) + step, step):
        synthesizer.feed(text[:end])


def test_each_sentence_is_spoken_once_as_soon_as_the_next_one_begins():
    speaker = BeepSpeaker()
    synthesizer = SentenceSynthesizer(speaker, 600)
    synthesizer.feed("Paris is the capital. It is")
    assert speaker.spoken == ["Paris is the capital."]
    stream(synthesizer, ANSWER)
    assert speaker.spoken == ["Paris is the capital.", "It is in France."]
    speech = synthesizer.finish(ANSWER)
    assert speaker.spoken[-1] == "It has a tower." and len(speaker.spoken) == 3
    assert speech.text == ANSWER and speech.sample_rate == 8_000
    spoken_s = 0.01 * (len(ANSWER) - 2)  # two spaces are pauses instead
    assert speech.seconds == pytest.approx(spoken_s + 2 * PAUSE_S, abs=0.01)


def test_only_sentences_sure_to_fit_are_spoken_early():
    speaker = BeepSpeaker()
    long = " ".join(f"Sentence number {i} is here." for i in range(40))
    synthesizer = SentenceSynthesizer(speaker, 120)
    stream(synthesizer, long, step=25)
    early = list(speaker.spoken)
    speech = synthesizer.finish(long)
    assert speech.text.endswith(FULL_ANSWER) and len(speech.text) <= 120
    assert speaker.spoken == [*early, FULL_ANSWER]  # nothing spoken early was wasted


def test_a_sentence_changed_by_later_markdown_is_spoken_again_in_its_final_form():
    speaker = BeepSpeaker()
    synthesizer = SentenceSynthesizer(speaker, 600)
    synthesizer.feed("It is **very big. And")
    final = "It is **very big.** And that is all."
    speech = synthesizer.finish(final)
    assert speech.text == "It is very big. And that is all."
    assert speaker.spoken[0] == "It is **very big." and "It is very big." in speaker.spoken


def test_an_executor_speaks_off_the_callers_thread():
    speaker = BeepSpeaker()
    with ThreadPoolExecutor(1, thread_name_prefix="speech") as executor:
        synthesizer = SentenceSynthesizer(speaker, 600, executor)
        stream(synthesizer, ANSWER)
        synthesizer.finish(ANSWER)
    assert speaker.threads and all(name.startswith("speech") for name in speaker.threads)


def test_an_engine_error_surfaces_at_finish_as_speech_failed():
    synthesizer = SentenceSynthesizer(BeepSpeaker(fail_on="France"), 600)
    stream(synthesizer, ANSWER)  # the failure is kept, not raised mid-stream
    with pytest.raises(SpeechFailed, match="RuntimeError"):
        synthesizer.finish(ANSWER)


def test_an_answer_with_nothing_speakable_fails():
    with pytest.raises(SpeechFailed):
        SentenceSynthesizer(BeepSpeaker(), 600).finish("```\ncode only\n```")
