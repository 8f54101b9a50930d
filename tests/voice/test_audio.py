"""Decoding every format a Stream client sends, encoding the reply, and the waveform."""

from __future__ import annotations

import pytest

from tests.voice.conftest import encode_as, needs_extra, tone

pytestmark = needs_extra
FORMATS = [  # (container, codec, rate): web (WebM/Opus), Safari and iOS (M4A), MP3, WAV
    ("webm", "libopus", 48_000),
    ("mp4", "aac", 44_100),
    ("mp3", "libmp3lame", 22_050),
    ("wav", "pcm_s16le", 16_000),
    ("ogg", "libopus", 48_000),
]


@pytest.mark.parametrize(("container", "codec", "rate"), FORMATS)
def test_each_format_decodes_to_16_khz_mono_float32(container, codec, rate):
    import numpy as np

    from gptbot.voice.audio import STT_RATE, decode, seconds

    samples = decode(encode_as(tone(2.0, rate), rate, container, codec))
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert seconds(samples, STT_RATE) == pytest.approx(2.0, abs=0.1)
    assert 0.3 < float(np.abs(samples).max()) <= 1.0  # the tone, not silence


@pytest.mark.parametrize("junk", [b"", b"not audio at all" * 50, b"RIFF\x00\x00\x00\x00WAVE"])
def test_corrupt_bytes_are_not_understood(junk):
    from gptbot.voice.audio import decode
    from gptbot.voice.errors import NotUnderstood

    with pytest.raises(NotUnderstood) as raised:
        decode(junk)
    assert "could not understand the audio" in raised.value.user_message


def test_a_file_with_video_only_is_not_understood():
    import io

    import av
    import numpy as np

    from gptbot.voice.audio import decode
    from gptbot.voice.errors import NotUnderstood

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width = stream.height = 32
        frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(NotUnderstood):
        decode(buffer.getvalue())


def test_the_reply_encodes_as_m4a_aac_of_the_same_length():
    import av

    from gptbot.voice.audio import decode, encode_m4a, seconds

    encoded = encode_m4a(tone(3.0, 22_050), 22_050)
    with av.open(__import__("io").BytesIO(encoded)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert "mp4" in container.format.name
    assert seconds(decode(encoded), 16_000) == pytest.approx(3.0, rel=0.05)
    assert len(encoded) < 3 * 48_000 / 8 * 1.3  # about 48 kb/s


def test_wav_encoding_round_trips():
    from gptbot.voice.audio import decode, encode_wav

    assert len(decode(encode_wav(tone(1.0), 16_000))) == 16_000


def test_the_waveform_is_100_peak_levels_in_0_1_rounded_to_3_places():
    import numpy as np

    from gptbot.voice.audio import waveform

    quiet_then_loud = np.concatenate([tone(1.0) * 0.1, tone(1.0)])
    levels = waveform(quiet_then_loud)
    assert len(levels) == 100 and max(levels) == 1.0 and min(levels) >= 0.0
    assert all(round(v, 3) == v for v in levels)
    assert levels[10] == pytest.approx(0.1, abs=0.01) and levels[90] == 1.0
    assert len(str(levels)) < 1000  # well inside Stream's 5 KB of custom data


def test_silence_and_tiny_clips_still_give_100_values():
    import numpy as np

    from gptbot.voice.audio import waveform

    assert waveform(np.zeros(16_000, np.float32)) == [0.0] * 100
    assert waveform(np.zeros(0, np.float32)) == [0.0] * 100
    short = waveform(np.array([0.5, -1.0, 0.25], np.float32))
    assert len(short) == 100 and 1.0 in short
