"""Incremental parsing of server-sent events, as the WHATWG spec defines them.

Upstream bytes arrive in arbitrary pieces; ``SSEParser.feed`` takes each piece
and returns the events it completes, so a stream is translated or passed on
event by event without waiting for the whole body. Written here rather than
taken from a library because the SSE clients on PyPI are tied to httpx or
requests, and lynkr needs bytes in, frames out, with the original frame
kept so that pass-through is byte-exact (line endings are normalised to LF).

A frame is kept in memory until its blank line arrives; one larger than
``max_frame_bytes`` (64 MiB unless told otherwise) raises ``SSEFrameTooLarge``,
an ``UpstreamError``: an upstream that never ends a frame cannot fill the memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from lynkr_core.errors import UpstreamError

#: The largest frame a parser holds by default.
MAX_FRAME_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` when unnamed), data, and the raw frame."""

    event: str
    data: str
    raw: bytes
    id: str | None = None
    retry: int | None = None


class SSEFrameTooLarge(UpstreamError):
    """An upstream frame grew past the parser's ``max_frame_bytes`` without ending (502)."""


class SSEParser:
    """Feed bytes, get complete events. Comments and blank frames are skipped.

    ``feed`` raises nothing but ``SSEFrameTooLarge``; bytes that are not UTF-8
    are replaced, lines that are not fields are ignored.
    """

    __slots__ = ("_after_cr", "_buffer", "_scanned", "max_frame_bytes")

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already searched for a frame end
        self._after_cr = False
        self.max_frame_bytes = max_frame_bytes

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Add ``chunk`` and return the events it completes, in order."""
        if self._after_cr and chunk:
            # the last piece ended with a CR: an LF opening this one is the rest of that CRLF
            self._after_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._after_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer
        buffer += chunk
        events = []
        start = 0
        # a frame end found now may begin at the last byte already searched
        search = max(self._scanned - 1, 0)
        while True:
            end = buffer.find(b"\n\n", search)
            if end < 0:
                break
            frame = bytes(buffer[start : end + 2])
            start = search = end + 2
            event = _parse_frame(frame)
            if event is not None:
                events.append(event)
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > self.max_frame_bytes:
            size = len(buffer)
            buffer.clear()
            self._scanned = 0
            raise SSEFrameTooLarge(
                f"upstream sent an event stream frame over {self.max_frame_bytes} bytes"
                f" ({size} bytes without an end)",
                status=502,
            )
        return events

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete frame (left over when a stream is cut)."""
        return bytes(self._buffer)


def _parse_frame(frame: bytes) -> ServerSentEvent | None:
    name = ""
    data_lines: list[str] = []
    event_id = None
    retry = None
    for line in frame.decode("utf-8", errors="replace").split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value
        elif field == "data":
            data_lines.append(value)
        elif field == "id":
            event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    if not data_lines:
        return None
    return ServerSentEvent(name or "message", "\n".join(data_lines), frame, event_id, retry)
