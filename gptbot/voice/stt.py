"""Speech to text behind one small protocol: samples in (16 kHz mono float32), text out.

`LocalTranscriber` runs faster-whisper on the packaged Whisper tiny.en weights, on the CPU,
loaded once per process; `OpenAITranscriber` posts a WAV to any OpenAI-compatible
`/audio/transcriptions` endpoint.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests

from gptbot.voice.audio import STT_RATE, encode_wav
from gptbot.voice.errors import EngineFailed

if TYPE_CHECKING:
    from gptbot.voice.audio import Samples

TIMEOUT = (10.0, 120.0)


class Transcriber(Protocol):
    engine: str  # "local" | "openai": what the ledger calls the provider
    model: str

    def transcribe(self, samples: Samples) -> str:
        """The words heard; "" for silence. Raises EngineFailed."""
        ...


class LocalTranscriber:
    engine = "local"
    model = "whisper-tiny.en"

    def __init__(self, model_dir: Path, cpu_threads: int = 2) -> None:
        self.model_dir = model_dir
        self.cpu_threads = cpu_threads
        self._whisper: Any = None
        self._lock = threading.Lock()  # one load, and one decode at a time on a small CPU

    def transcribe(self, samples: Samples) -> str:
        with self._lock:
            segments, _info = self._loaded().transcribe(
                samples, language="en", beam_size=1, condition_on_previous_text=False)
            return " ".join(segment.text.strip() for segment in segments).strip()

    def _loaded(self) -> Any:
        if self._whisper is None:
            # A directory is loaded as is; offline mode makes sure no hub is ever asked.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from faster_whisper import WhisperModel

            self._whisper = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                         cpu_threads=self.cpu_threads, local_files_only=True)
        return self._whisper


class OpenAITranscriber:
    engine = "openai"

    def __init__(self, base_url: str, api_key: str | None, model: str,
                 session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/") + "/audio/transcriptions"
        self.api_key = api_key
        self.model = model
        self.session = session or requests.Session()

    def transcribe(self, samples: Samples) -> str:
        # Always WAV: whatever the sender recorded (raw AAC is not on OpenAI's list).
        files = {"file": ("voice.wav", encode_wav(samples, STT_RATE), "audio/wav")}
        data = {"model": self.model, "response_format": "json"}
        try:
            response = self.session.post(self.url, headers=_auth(self.api_key), files=files,
                                         data=data, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise EngineFailed(f"transcription request failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise EngineFailed(f"HTTP {response.status_code} from the transcription API")
        return _text(response)


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _text(response: requests.Response) -> str:
    try:
        text = response.json().get("text")
    except (ValueError, AttributeError):
        raise EngineFailed("the transcription API answered no JSON object") from None
    if not isinstance(text, str):
        raise EngineFailed("the transcription API answered no text")
    return text.strip()
