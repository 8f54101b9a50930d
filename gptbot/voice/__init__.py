"""Voice notes in and out of `/gpt`: find a voice attachment, fetch it safely, transcribe it,
and speak the final answer as a Stream `voiceRecording` attachment.

The answer job talks to one facade, `gptbot.voice.service.VoiceService`. Heavy engines
(PyAV, faster-whisper, onnxruntime) are imported inside functions, so this package imports
without the optional `voice` extra. May import: gptbot.core and gptbot.config only.
"""
