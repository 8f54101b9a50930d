"""Text to speech behind one small protocol: a sentence in, mono float32 samples out.

`LocalSpeaker` runs the packaged Piper voice (an ONNX model) on onnxruntime, with phonemes
from the `espeak-ng` program; `OpenAISpeaker` asks any OpenAI-compatible `/audio/speech`
endpoint for raw PCM.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests

from gptbot.voice.errors import SpeechFailed
from gptbot.voice.phonemes import phoneme_ids, phonemize

if TYPE_CHECKING:
    from gptbot.voice.audio import Samples

OPENAI_PCM_RATE = 24_000  # `response_format: pcm` is 24 kHz 16-bit little-endian mono
TIMEOUT = (10.0, 60.0)


class Speaker(Protocol):
    engine: str  # "local" | "openai"
    model: str
    sample_rate: int

    def synthesize(self, sentence: str) -> Samples:
        """Raises SpeechFailed."""
        ...


class LocalSpeaker:
    engine = "local"
    model = "piper-en_US-joe-medium"

    def __init__(self, model_path: Path, config_path: Path, threads: int = 2) -> None:
        self.model_path = model_path
        self.config = json.loads(config_path.read_text())
        self.sample_rate = int(self.config["audio"]["sample_rate"])
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def synthesize(self, sentence: str) -> Samples:
        import numpy as np

        ids = phoneme_ids(phonemize(sentence, self.config["espeak"]["voice"]),
                          self.config["phoneme_id_map"])
        with self._lock:
            audio = self._loaded().run(None, self._inputs(ids))[0]
        return np.clip(audio.reshape(-1), -1.0, 1.0).astype(np.float32)

    def _inputs(self, ids: list[int]) -> dict[str, Any]:
        import numpy as np

        scales = self.config["inference"]
        return {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([scales["noise_scale"], scales["length_scale"],
                                scales["noise_w"]], dtype=np.float32),
        }

    def _loaded(self) -> Any:
        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"])
        return self._session


class OpenAISpeaker:
    engine = "openai"
    sample_rate = OPENAI_PCM_RATE

    def __init__(self, base_url: str, api_key: str | None, model: str, voice: str,
                 session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/") + "/audio/speech"
        self.api_key = api_key
        self.model = model
        self.voice = voice
        self.session = session or requests.Session()

    def synthesize(self, sentence: str) -> Samples:
        import numpy as np

        body = {"model": self.model, "voice": self.voice, "input": sentence,
                "response_format": "pcm"}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = self.session.post(self.url, json=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise SpeechFailed(f"speech request failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SpeechFailed(f"HTTP {response.status_code} from the speech API")
        pcm = response.content[: len(response.content) // 2 * 2]
        return (np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)
