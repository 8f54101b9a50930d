"""Voice test helpers: markers for the optional engines, and real audio made on the spot.

Without the `voice` extra (or espeak-ng) the engine tests skip, and under CI=true a skip
fails the run (tests/conftest.py), so CI cannot pass without really running them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gptbot.config.voice import voice_extra_installed

needs_extra = pytest.mark.skipif(not voice_extra_installed(),
                                 reason="no voice extra: pip install -e '.[voice]'")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")
QUESTION = "What is the capital of France?"


def espeak_wav(path: Path, text: str) -> Path:
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, timeout=30)
    return path


def tone(seconds: float, rate: int = 16_000, hz: float = 440.0) -> Any:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def encode_as(samples: Any, rate: int, container_format: str, codec: str) -> bytes:
    """The test's own encoder, so each format's file is made by PyAV itself."""
    import io

    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream: Any = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None, :], format="flt",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def voice_message(url: str, message_id: str = "m1", **extra: Any) -> dict[str, Any]:
    attachment = {"type": "voiceRecording", "asset_url": url, "mime_type": "audio/wav", **extra}
    return {"id": message_id, "text": "", "attachments": [attachment]}


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, heard: str) -> float:
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i, expected in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, got in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (expected != got))
    return row[-1] / max(len(ref), 1)
