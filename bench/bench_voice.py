"""Local voice on this machine: real-time factor (compute seconds per second of audio) of
speech-to-text and text-to-speech, and the time from an answer's final text to a ready
`voiceRecording` attachment (the last sentence synthesized, the whole reply encoded,
uploaded to the emulator).

    python bench/bench_voice.py [--rounds 3]

Needs the voice extra and espeak-ng. Questions are spoken by espeak-ng; the reply by the
Piper voice. Medians of `--rounds` runs; the engines are loaded (and timed) first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stream_chat import StreamChat

from gptbot.config.voice import VoiceConfig
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from gptbot.stream.api import StreamApi
from gptbot.stream.files import upload_file
from gptbot.voice import audio
from gptbot.voice.cache import MemoryTranscriptCache
from gptbot.voice.service import VoiceService, voice_attachment
from gptbot.voice.speech_text import sentences

SHORT = "What is the capital of France, and how many people live there?"
LONG = ("I am planning a trip to Europe next spring. Could you suggest a route through "
        "France and Italy that takes about two weeks, with a few days in Paris, a train "
        "across the Alps, and some time on the coast, and tell me roughly what it costs?")
REPLY = ("Paris is the capital of France. About two million people live in the city itself, "
         "and more than twelve million in the wider region. It sits on the Seine, in the "
         "north of the country. The city is famous for its museums, its cafes and the Eiffel "
         "Tower, which was built for the world fair of 1889.")


def median_time(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def espeak(text: str, folder: Path) -> audio.Samples:
    path = folder / "q.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    return audio.decode(path.read_bytes())


def bench_stt(voice: VoiceService, folder: Path, rounds: int) -> None:
    assert voice.transcriber is not None
    loaded = median_time(lambda: voice.transcriber.transcribe(espeak("Hello.", folder)), 1)
    print(f"STT  load + first call: {loaded:.2f} s")
    for label, text in (("short", SHORT), ("long", LONG)):
        samples = espeak(text, folder)
        length = audio.seconds(samples, audio.STT_RATE)
        took = median_time(lambda s=samples: voice.transcriber.transcribe(s), rounds)
        print(f"STT  {label}: {length:.1f} s of audio in {took:.2f} s, RTF {took / length:.3f}")


def bench_tts(voice: VoiceService, rounds: int) -> None:
    assert voice.speaker is not None
    speaker = voice.speaker
    loaded = median_time(lambda: speaker.synthesize("Hello."), 1)
    print(f"TTS  load + first call: {loaded:.2f} s")
    first = sentences(REPLY)[0]
    took_first = median_time(lambda: speaker.synthesize(first), rounds)
    spoken = [speaker.synthesize(s) for s in sentences(REPLY)]
    length = sum(len(s) for s in spoken) / speaker.sample_rate
    took = median_time(lambda: [speaker.synthesize(s) for s in sentences(REPLY)], rounds)
    print(f"TTS  first sentence: {took_first:.2f} s")
    print(f"TTS  reply: {length:.1f} s of audio in {took:.2f} s, RTF {took / length:.3f}")


def bench_final_text(voice: VoiceService, rounds: int) -> None:
    """The answer streams; its last sentence arrives; how long until the attachment?"""
    state = EmulatorState()
    with start_server(create_emulator_app(state)) as server:
        api = StreamApi(StreamChat(state.api_key, state.api_secret, base_url=server.url))
        api.client.channel("messaging", "bench").create("gpt-bot")
        speak, upload = [], []
        for _ in range(rounds):
            synthesizer = voice.synthesizer()
            synthesizer.feed(REPLY)  # every sentence but the last is done while streaming
            start = time.perf_counter()
            reply = voice.speak(REPLY, synthesizer)
            speak.append(time.perf_counter() - start)
            url = upload_file(api, ("messaging", "bench"), reply.audio, reply.title,
                              reply.mime_type, "gpt-bot")
            voice_attachment(url, reply)
            upload.append(time.perf_counter() - start - speak[-1])
    print(f"Final text -> encoded reply ({reply.duration:.1f} s, {reply.file_size} B): "
          f"{statistics.median(speak):.2f} s; + upload to the emulator "
          f"{statistics.median(upload):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    voice = VoiceService.build(VoiceConfig(stt="local", tts="local"), MemoryTranscriptCache(),
                               stream_chat_url=None, openai_base_url="", openai_api_key=None)
    if voice.problems:
        raise SystemExit("voice is not ready: " + "; ".join(voice.problems))
    with tempfile.TemporaryDirectory() as folder:
        bench_stt(voice, Path(folder), rounds)
    bench_tts(voice, rounds)
    bench_final_text(voice, rounds)


if __name__ == "__main__":
    main()
