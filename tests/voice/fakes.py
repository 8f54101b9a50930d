"""Engines that need no weights: a speaker of beeps and a transcriber that says its line."""

from __future__ import annotations

import threading
from typing import Any


class BeepSpeaker:
    engine, model, sample_rate = "local", "beep", 8_000

    def __init__(self, fail_on: str = "") -> None:
        self.spoken: list[str] = []
        self.fail_on = fail_on
        self.threads: set[str] = set()

    def synthesize(self, sentence: str) -> Any:
        from tests.voice.conftest import tone

        self.threads.add(threading.current_thread().name)
        if self.fail_on and self.fail_on in sentence:
            raise RuntimeError("onnx blew up")
        self.spoken.append(sentence)
        return tone(0.01 * len(sentence), self.sample_rate)


class ScriptedTranscriber:
    engine, model = "openai", "whisper-1"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    def transcribe(self, samples: Any) -> str:
        self.calls += 1
        return self.text
