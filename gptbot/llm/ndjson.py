"""Incremental newline-delimited JSON (NDJSON) line splitter, for Ollama's native stream.

Pure and I/O free like `gptbot.sse`: feed it reads of any size, get back the complete
lines as text. JSON parsing is left to the caller. Lines end at LF (a CR before it is
dropped); blank lines are skipped; `close()` returns a last line that had no LF.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gptbot.llm.lines import LineSplitter


class NDJSONDecoder:
    """Turns byte chunks into complete text lines; one instance per response body."""

    __slots__ = ("_splitter",)

    def __init__(self) -> None:
        self._splitter = LineSplitter()

    def feed(self, chunk: bytes) -> list[str]:
        """Consume one read; return the lines it completed (often none)."""
        head = self._splitter.feed(chunk)
        return [] if head is None else _lines(head)

    def close(self) -> list[str]:
        """End of stream: the last line, if it was not terminated."""
        return _lines(self._splitter.flush())


def _lines(raw: bytes) -> list[str]:
    # Split bytes, not text: str.splitlines would also split on U+2028 & co, which may
    # appear raw inside JSON strings. LF never occurs inside a UTF-8 sequence, so
    # decoding whole lines keeps split multi-byte characters intact.
    lines = (line.rstrip(b"\r") for line in raw.split(b"\n"))
    return [line.decode("utf-8", "replace") for line in lines if line.strip()]


def decode_ndjson(chunks: Iterable[bytes]) -> Iterator[str]:
    """Yield the lines of a whole body given as an iterable of byte chunks."""
    decoder = NDJSONDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()
