"""Voice errors: each carries a short `user_message` a channel member may read; the
exception text is for the log."""

from __future__ import annotations

from gptbot.core.errors import GptBotError

TYPE_INSTEAD = "Please type your question instead."


class VoiceError(GptBotError):
    user_message = f"Sorry, I could not use that voice message. {TYPE_INSTEAD}"


class VoiceNotSetUp(VoiceError):
    """Voice is off, or its extra, weights or espeak-ng are missing."""

    user_message = f"Sorry, voice is not set up here. {TYPE_INSTEAD}"


class HostNotAllowed(VoiceError):
    """The attachment's URL points outside the allow-list (no request was made)."""

    user_message = ("Sorry, I only listen to voice messages stored by this chat, "
                    "and this one is stored elsewhere.")


class TooLong(VoiceError):
    def __init__(self, message: str, max_seconds: int) -> None:
        super().__init__(message)
        self.user_message = (f"Sorry, that voice message is too long: I listen to at most "
                             f"{max_seconds} seconds.")


class TooLarge(VoiceError):
    def __init__(self, message: str, max_bytes: int) -> None:
        super().__init__(message)
        self.user_message = (f"Sorry, that voice message is too large: I accept at most "
                             f"{max_bytes / 1_000_000:g} MB.")


class DownloadFailed(VoiceError):
    """The allowed host did not give us the file (expired link, 404, network)."""

    user_message = ("Sorry, I could not fetch that voice message; its link may have "
                    f"expired. {TYPE_INSTEAD}")


class NotUnderstood(VoiceError):
    """Corrupt or unsupported audio, silence, or an empty transcript."""

    user_message = f"Sorry, I could not understand the audio. {TYPE_INSTEAD}"


class EngineFailed(VoiceError):
    """The speech-to-text engine (local or remote) failed."""

    user_message = f"Sorry, speech recognition is not working right now. {TYPE_INSTEAD}"


class SpeechFailed(VoiceError):
    """Speaking the answer failed; the text answer stands, with this note."""

    user_message = "(I could not add a spoken version of this answer.)"


class NothingToHear(VoiceError):
    """`/gpt` alone, and no recording on the message, its quote or its thread parent."""

    user_message = ("Ask me something after /gpt, or send /gpt with (or in reply to) a "
                    "voice message.")
