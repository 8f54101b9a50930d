"""Audio in and out, with PyAV (FFmpeg's libraries in the wheel; no ffmpeg program):
decode WebM/Opus, M4A, MP3, WAV to 16 kHz mono float32; encode M4A/AAC and WAV; the
100-value waveform Stream's players draw."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from gptbot.voice.errors import NotUnderstood

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Samples = NDArray[np.float32]

STT_RATE = 16_000  # what Whisper listens at
WAVEFORM_POINTS = 100  # as Stream's web recorder sends
AAC_BIT_RATE = 48_000  # speech: 17.6 s came to 116 KB (research/voice.md)


def decode(data: bytes, rate: int = STT_RATE) -> Samples:
    """Mono float32 samples at `rate`; NotUnderstood for anything PyAV cannot read."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise NotUnderstood("no audio stream in the file")
            return _resampled(container, rate)
    except av.FFmpegError as exc:
        raise NotUnderstood(f"undecodable audio: {exc}") from None


def _resampled(container: Any, rate: int) -> Samples:
    import av
    import numpy as np

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    pieces = []
    for frame in container.decode(audio=0):
        pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def seconds(samples: Samples, rate: int) -> float:
    return len(samples) / rate


def encode_m4a(samples: Samples, rate: int) -> bytes:
    """AAC in an MP4 container: plays in Safari and Chrome alike (WebM may not on Safari)."""
    return _encode(samples, rate, "mp4", "aac", AAC_BIT_RATE)


def encode_wav(samples: Samples, rate: int) -> bytes:
    """16-bit PCM WAV: what every transcription API accepts."""
    return _encode(samples, rate, "wav", "pcm_s16le", None)


def _encode(samples: Samples, rate: int, container_format: str, codec: str,
            bit_rate: int | None) -> bytes:
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream: Any = container.add_stream(codec, rate=rate, layout="mono")  # an audio stream
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(
            np.clip(samples, -1.0, 1.0).astype(np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def waveform(samples: Samples, points: int = WAVEFORM_POINTS) -> list[float]:
    """`points` peak levels in [0, 1], the loudest 1.0, rounded to 3 places (100 of them
    are about 700 bytes of the attachment's 5 KB custom data)."""
    import numpy as np

    if len(samples) == 0:
        return [0.0] * points
    peaks = np.array([np.abs(part).max() if len(part) else 0.0
                      for part in np.array_split(samples, points)])
    loudest = float(peaks.max())
    scaled = peaks / loudest if loudest > 0 else peaks
    return [round(float(value), 3) for value in scaled]
