"""Cutting a byte stream into lines at LF, for the SSE and NDJSON decoders.

Both decoders receive reads of any size and must hold on to the unfinished last line
until a later read completes it. Pure and I/O free; decoding and the meaning of a line
(and of a CR) are left to the caller.
"""

from __future__ import annotations


class LineSplitter:
    """Holds the unfinished last line between reads; one instance per response body.

    `feed` hands back all the lines a read completed as one bytes object, so the caller
    splits and decodes once per read rather than once per line: this is the hot path of
    every streamed answer.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # pieces of the unfinished last line

    def feed(self, chunk: bytes) -> bytes | None:
        """The lines this read completed, LF-separated and without the final LF, or None
        when it completed none (b"" is one empty line)."""
        end = chunk.rfind(b"\n")
        if end < 0:
            if chunk:
                self._pending.append(chunk)
            return None
        head = chunk[:end]
        if self._pending:
            # Join once per finished line, so a long line over many reads stays linear.
            self._pending.append(head)
            head = b"".join(self._pending)
            self._pending.clear()
        if end + 1 < len(chunk):
            self._pending.append(chunk[end + 1 :])
        return head

    def flush(self) -> bytes:
        """End of stream: the last line if no LF ended it, else b""."""
        rest = b"".join(self._pending)
        self._pending.clear()
        return rest
