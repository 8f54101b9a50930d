"""The one door the answer job uses for voice: `hear` a command's recording, `speak` the
final answer, and build the `voiceRecording` attachment for it.

Uploading the audio is the job's step (gptbot.stream.files.upload_audio), between `speak`
and `voice_attachment`: this package stays below the Stream layer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from gptbot.config.voice import VoiceConfig, voice_extra_installed
from gptbot.voice import audio
from gptbot.voice.cache import TranscriptCache, content_hash
from gptbot.voice.download import DownloadLimits, download
from gptbot.voice.errors import (
    EngineFailed,
    NotUnderstood,
    SpeechFailed,
    TooLong,
    VoiceError,
    VoiceNotSetUp,
)
from gptbot.voice.hosts import HostPolicy
from gptbot.voice.phonemes import espeak_path
from gptbot.voice.stt import LocalTranscriber, OpenAITranscriber, Transcriber
from gptbot.voice.synthesis import SentenceSynthesizer, Speech
from gptbot.voice.trigger import VoiceAttachment, find_voice
from gptbot.voice.tts import LocalSpeaker, OpenAISpeaker, Speaker
from gptbot.voice.usage import VoiceUsage, heard, spoken
from gptbot.voice.weights import (
    JOE_VOICE,
    PIPER_CONFIG,
    PIPER_MODEL,
    WHISPER_TINY_EN,
    WeightsUnavailable,
    verified_dir,
)

log = logging.getLogger(__name__)
Message = Mapping[str, Any]
MIME_TYPE = "audio/mp4"
NO_EXTRA = "the voice extra is not installed: pip install -e '.[voice]'"
QUOTE_CHARS = 500  # of the transcript, in the reply's opening quote


@dataclass(frozen=True)
class Heard:
    transcript: str
    seconds: float  # decoded length of the recording
    message_id: str  # the message that carried the recording
    usage: VoiceUsage | None  # None: the transcript came from the cache, nothing was spent

    @property
    def quote(self) -> str:
        """The reply's first line, showing what was heard."""
        text = self.transcript if len(self.transcript) <= QUOTE_CHARS else \
            self.transcript[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
        return f"> 🎤 {text}"


@dataclass(frozen=True)
class SpokenReply:
    audio: bytes  # M4A/AAC
    duration: float  # seconds
    waveform: list[float]
    title: str
    text: str  # what was spoken
    usage: VoiceUsage
    mime_type: str = MIME_TYPE

    @property
    def file_size(self) -> int:
        return len(self.audio)


@dataclass
class VoiceService:
    config: VoiceConfig
    hosts: HostPolicy
    cache: TranscriptCache
    transcriber: Transcriber | None = None  # None: hearing is off or not set up
    speaker: Speaker | None = None  # None: speaking is off or not set up
    session: requests.Session = field(default_factory=requests.Session)
    clock: Callable[[], float] = time.time
    problems: tuple[str, ...] = ()  # why an engine the config asks for is missing

    @classmethod
    def build(cls, config: VoiceConfig, cache: TranscriptCache, *, stream_chat_url: str | None,
              openai_base_url: str, openai_api_key: str | None,
              marker_dir: Path | None = None) -> VoiceService:
        """Engines as configured; one that cannot be set up is left out, with its reason in
        `problems` (logged), so the bot answers in text and tells the user voice is off."""
        if config.enabled and not voice_extra_installed():
            log.warning("voice: %s", NO_EXTRA)
            return cls(config, HostPolicy.for_stream(stream_chat_url), cache,
                       problems=(NO_EXTRA,))
        problems: list[str] = []
        transcriber = _engine(problems, lambda: _transcriber(
            config, openai_base_url, openai_api_key, marker_dir))
        speaker = _engine(problems, lambda: _speaker(
            config, openai_base_url, openai_api_key, marker_dir))
        for problem in problems:
            log.warning("voice: %s", problem)
        return cls(config, HostPolicy.for_stream(stream_chat_url), cache, transcriber, speaker,
                   problems=tuple(problems))

    def recording(self, message: Message, quoted: Message | None = None,
                  parent: Message | None = None) -> VoiceAttachment | None:
        """Pure: the recording this command is about, if any (no download)."""
        return find_voice(message, quoted, parent)

    def hear(self, message: Message, quoted: Message | None = None,
             parent: Message | None = None) -> Heard | None:
        """The transcript of the command's recording; None when there is none. Raises a
        VoiceError whose user_message is the reply."""
        attachment = find_voice(message, quoted, parent)
        if attachment is None:
            return None
        if self.transcriber is None:
            raise VoiceNotSetUp("a voice message came, but speech-to-text is "
                                + (self.config.stt if self.config.stt == "off" else "not set up"))
        data = download(attachment, self.hosts, self._limits(), self.session)
        samples = audio.decode(data)
        seconds = audio.seconds(samples, audio.STT_RATE)
        if seconds > self.config.max_seconds:
            raise TooLong(f"decoded length {seconds:.0f} s", self.config.max_seconds)
        return self._transcript(attachment.message_id, content_hash(data), samples, seconds)

    def synthesizer(self, executor: Executor | None = None) -> SentenceSynthesizer:
        """Feed it the answer's text while it streams; pass it to `speak` at the end."""
        if self.speaker is None:
            raise VoiceNotSetUp("text-to-speech is " + self.config.tts)
        return SentenceSynthesizer(self.speaker, self.config.spoken_chars, executor)

    def speak(self, text: str, synthesizer: SentenceSynthesizer | None = None) -> SpokenReply:
        """The answer's spoken form as M4A. Raises SpeechFailed (or VoiceNotSetUp); the
        text answer stands either way, with that error's user_message as a note."""
        speech = (synthesizer or self.synthesizer()).finish(text)
        try:
            encoded = audio.encode_m4a(speech.samples, speech.sample_rate)
        except Exception as exc:  # PyAV's own errors: the text must still go out
            raise SpeechFailed(f"encoding failed: {type(exc).__name__}: {exc}") from exc
        return self._reply(speech, encoded)

    def _limits(self) -> DownloadLimits:
        return DownloadLimits(self.config.max_seconds, self.config.max_bytes)

    def _transcript(self, message_id: str, digest: str, samples: audio.Samples,
                    seconds: float) -> Heard:
        cached = self.cache.get(message_id, digest)
        if cached is not None:
            return Heard(cached, seconds, message_id, None)
        assert self.transcriber is not None
        text = _transcribed(self.transcriber, samples)
        if not text:
            raise NotUnderstood("the transcript is empty")
        self.cache.put(message_id, digest, text)
        usage = heard(self.transcriber.engine, self.transcriber.model, seconds)
        return Heard(text, seconds, message_id, usage)

    def _reply(self, speech: Speech, encoded: bytes) -> SpokenReply:
        assert self.speaker is not None
        stamp = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime(self.clock()))
        usage = spoken(self.speaker.engine, self.speaker.model, speech.seconds,
                       len(speech.text))
        return SpokenReply(encoded, round(speech.seconds, 2), audio.waveform(speech.samples),
                           f"voice_reply_{stamp}.m4a", speech.text, usage)


def voice_attachment(asset_url: str, reply: SpokenReply) -> dict[str, Any]:
    """Stream's `voiceRecording` attachment for an uploaded reply (stream-chat-js
    VoiceRecordingAttachment; the v1 API keeps the untyped fields as custom data)."""
    return {
        "type": "voiceRecording",
        "asset_url": asset_url,
        "title": reply.title,
        "mime_type": reply.mime_type,
        "file_size": reply.file_size,
        "duration": reply.duration,
        "waveform_data": reply.waveform,
    }


def voice_question(transcript: str, instruction: str) -> str:
    """What the model is asked: the transcript, with the text typed after `/gpt` kept as
    an instruction beside it."""
    if not instruction.strip():
        return transcript
    return f"{instruction.strip()}\n\nVoice message: {transcript}"


def _transcribed(transcriber: Transcriber, samples: audio.Samples) -> str:
    try:
        return transcriber.transcribe(samples)
    except VoiceError:
        raise
    except Exception as exc:  # an engine's own error (CTranslate2, tokenizer, …)
        raise EngineFailed(f"transcription failed: {type(exc).__name__}: {exc}") from exc


def _engine(problems: list[str], make: Callable[[], Any]) -> Any:
    try:
        return make()
    except (WeightsUnavailable, VoiceNotSetUp) as exc:
        problems.append(str(exc))
        return None


def _transcriber(config: VoiceConfig, base_url: str, api_key: str | None,
                 marker_dir: Path | None) -> Transcriber | None:
    if config.stt == "openai":
        return OpenAITranscriber(base_url, api_key, config.openai_stt_model)
    if config.stt == "local":
        return LocalTranscriber(verified_dir(WHISPER_TINY_EN, marker_dir))
    return None


def _speaker(config: VoiceConfig, base_url: str, api_key: str | None,
             marker_dir: Path | None) -> Speaker | None:
    if config.tts == "openai":
        return OpenAISpeaker(base_url, api_key, config.openai_tts_model, config.openai_voice)
    if config.tts != "local":
        return None
    if espeak_path() is None:
        raise VoiceNotSetUp("espeak-ng is not on PATH: apt-get install espeak-ng")
    directory = verified_dir(JOE_VOICE, marker_dir)
    return LocalSpeaker(directory / PIPER_MODEL, directory / PIPER_CONFIG)
