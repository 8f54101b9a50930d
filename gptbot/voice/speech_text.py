"""What of an answer is spoken: its prose, without markdown, code or links, and at most a
few sentences, ending with a pointer to the text when it was cut."""

from __future__ import annotations

import re

FULL_ANSWER = "The full answer is in the text."
FENCE = re.compile(r"```.*?(?:```|$)", re.S)
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their words
    (re.compile(r"https?://\S+?(?=[.,;:!?)]*(?:\s|$))"), ""),  # bare URLs, not their full stop
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s{0,3}(?:#{1,6}|>+|[-*+]|\d+[.)])\s+", re.M), ""),  # headings, quotes, lists
    (re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M), ""),  # table rulers
    (re.compile(r"\|"), ", "),
    (re.compile(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold, italics, strike
)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
LINE_END_PUNCTUATION = re.compile(r"([^.!?:;,\s])\s*\n+")


def speakable(markdown: str) -> str:
    """Plain prose: code blocks dropped, formatting marks removed, one line."""
    text = FENCE.sub(" ", markdown)
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    text = LINE_END_PUNCTUATION.sub(r"\1. ", text)  # a list item ends like a sentence
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ([.,;:!?])", r"\1", text).strip()


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]


def spoken_text(markdown: str, max_chars: int) -> str:
    """The words to speak, at most `max_chars` long, cut at a sentence end."""
    return capped(speakable(markdown), max_chars)


def capped(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    room = max(max_chars - len(FULL_ANSWER) - 1, 0)
    kept: list[str] = []
    for sentence in sentences(text):
        if len(" ".join([*kept, sentence])) > room:
            break
        kept.append(sentence)
    if not kept:  # one long first sentence: cut it at a word
        kept = [text[:room].rsplit(" ", 1)[0].rstrip(",;:") + "."] if room else []
    return " ".join([*kept, FULL_ANSWER])
