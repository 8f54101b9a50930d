"""Incremental Server-Sent-Events decoder (WHATWG "event stream interpretation").

Pure and I/O free: feed it the raw bytes of a response body in whatever pieces the
network delivers, get back the complete events. Deliberate differences from the spec:

* `close()` dispatches a pending event that was not ended by a blank line: several real
  servers end their stream that way and the last event is often the one that matters.
* a line `error: {...}` (llama.cpp) is dispatched as its own event named "error".

Speed matters when replaying large transcripts and for CPU per concurrent stream, so the
hot path works on whole reads (one `split`/`decode` per read) and never re-copies an
unfinished line more than once (see `gptbot.lines`), which keeps buffering linear in the
input size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from gptbot.llm.lines import LineSplitter

_BOM = "\ufeff"


class SSEEvent(msgspec.Struct, frozen=True, gc=False):
    """One dispatched event. A frozen msgspec Struct rather than a frozen dataclass: one
    is built per chunk of every answer, and a Struct is built several times faster (and
    left out of the cycle collector: it holds only strings and numbers)."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns byte chunks into `SSEEvent`s; one instance per response body."""

    __slots__ = ("_data", "_event", "_first", "_id", "_retry", "_skip_lf", "_splitter")

    def __init__(self) -> None:
        self._splitter = LineSplitter()
        self._skip_lf = False  # previous read ended in CR: a leading LF belongs to it
        self._first = True  # the next decoded text starts the stream (BOM check)
        self._data: list[str] = []  # data lines of the event being built
        self._event = ""
        # last-event-id and reconnection time are stream state in the spec, not part of
        # one event: they survive dispatch and every later event reports them.
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume one read; return the events it completed (often none)."""
        head = self._splitter.feed(self._normalize(chunk))
        if head is None:
            return []
        return self._lines(self._decode(head).split("\n"))

    def close(self) -> list[SSEEvent]:
        """End of stream: flush the unterminated last line and a pending event."""
        out: list[SSEEvent] = []
        rest = self._splitter.flush()
        if rest:
            out = self._lines([self._decode(rest)])
        if self._data:
            out.append(self._dispatch())
        self._reset_event()
        self._skip_lf = False
        self._first = True
        return out

    def _normalize(self, chunk: bytes) -> bytes:
        """Turn CRLF and lone CR into LF, also when a CRLF is split across two reads."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk[-1] == 0x0D
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return chunk

    def _decode(self, raw: bytes) -> str:
        # Decoding whole lines (never a partial one) keeps multi-byte characters that
        # straddle reads intact; LF never occurs inside a UTF-8 sequence, so splitting
        # the decoded text on "\n" afterwards is exact. str.splitlines would also split
        # on U+2028 & co, which appear raw inside JSON strings.
        text = raw.decode("utf-8", "replace")
        if self._first:
            self._first = False
            if text.startswith(_BOM):
                text = text[1:]
        return text

    def _lines(self, lines: list[str]) -> list[SSEEvent]:
        # The hot loop: `data:`, `event:` and blank lines are inlined, the rest is rare.
        out: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if line[:5] == "data:":
                data.append(line[6:] if line[5:6] == " " else line[5:])
            elif not line:
                if len(data) == 1:  # the usual event, dispatched inline: one data line
                    name = self._event or "message"
                    out.append(SSEEvent(data.pop(), name, self._id, self._retry))
                    self._event = ""
                elif data:
                    out.append(self._dispatch())
                else:
                    self._event = ""
            elif line[:6] == "event:":  # every Anthropic event is named
                self._event = line[7:] if line[6:7] == " " else line[6:]
            elif line[0] != ":":
                event = self._field(line)
                if event is not None:
                    out.append(event)
        return out

    def _field(self, line: str) -> SSEEvent | None:
        """Handle a non-data field line; return an event only for llama.cpp errors."""
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":  # "data" without a colon: an empty data line
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        elif name == "error":
            # llama.cpp's server writes mid-stream errors as `error: {json}` followed by a
            # blank line. The spec ignores unknown fields, which would silently turn a
            # failed generation into a short answer, so surface it as an "error" event.
            return SSEEvent(value, "error", self._id, self._retry)
        return None

    def _dispatch(self) -> SSEEvent:
        event = SSEEvent("\n".join(self._data), self._event or "message", self._id, self._retry)
        self._reset_event()
        return event

    def _reset_event(self) -> None:
        self._data.clear()
        self._event = ""


def decode_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Yield the events of a whole body given as an iterable of byte chunks."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()
