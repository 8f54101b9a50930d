"""Phonemes for the Piper voice, from the `espeak-ng` program.

espeak-ng is GPL-3; gptbot is MIT. Running the program as a subprocess keeps it a separate
work (nothing links it). Its `--ipa` output is one line per clause with the punctuation
dropped, and the voice was trained with the punctuation in place (it makes the pauses), so
each sentence's clauses are sent one per line and their punctuation is put back.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from gptbot.voice.errors import SpeechFailed

ESPEAK = "espeak-ng"
CLAUSE = re.compile(r"[^,;:.!?]+[,;:.!?]*")
TIMEOUT_S = 10.0
BOS, EOS, PAD = "^", "$", "_"  # Piper's begin, end and between-phoneme symbols


def espeak_path() -> str | None:
    return shutil.which(ESPEAK)


def clauses(sentence: str) -> list[tuple[str, str]]:
    """(words, closing punctuation) of each clause; "" when a clause has none."""
    found = []
    for match in CLAUSE.finditer(sentence):
        words = match.group().rstrip(",;:.!?")
        if words.strip():
            found.append((words.strip(), match.group()[len(words):][:1]))
    return found


def phonemize(sentence: str, voice: str = "en-us") -> str:
    """The sentence in IPA, clause punctuation restored."""
    parts = clauses(sentence)
    if not parts:
        return ""
    lines = _espeak("\n".join(words for words, _ in parts), voice)
    if len(lines) != len(parts):  # espeak split a clause further ("e.g."): keep its end only
        return " ".join(lines) + parts[-1][1]
    return " ".join(line + mark for line, (_, mark) in zip(lines, parts, strict=True))


def _espeak(text: str, voice: str) -> list[str]:
    program = espeak_path()
    if program is None:
        raise SpeechFailed("espeak-ng is not on PATH")
    try:
        done = subprocess.run([program, "-q", "-v", voice, "--ipa"], input=text,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        raise SpeechFailed(f"espeak-ng failed: {exc}") from None
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def phoneme_ids(phonemes: str, id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """Piper's encoding: begin, a pad after every symbol, end; unknown symbols dropped."""
    ids = [*id_map[BOS], *id_map[PAD]]
    for symbol in phonemes:
        if symbol in id_map:
            ids += [*id_map[symbol], *id_map[PAD]]
    return [*ids, *id_map[EOS]]
