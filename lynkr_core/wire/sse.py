"""Incremental parsing of server-sent events, as the WHATWG spec defines them.

Upstream bytes arrive in arbitrary pieces; ``SSEParser.feed`` takes each piece
and returns the events it completes, so a stream is translated or passed on
event by event without waiting for the whole body. Written here rather than
taken from a library because the SSE clients on PyPI are tied to httpx or
requests, and lynkr needs bytes in, frames out, with the original frame
kept so that pass-through is byte-exact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` when unnamed), data, and the raw frame."""

    event: str
    data: str
    raw: bytes
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed bytes, get complete events. Comments and blank frames are skipped."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Add ``chunk`` and return the events it completes, in order."""
        buffer = self._buffer + chunk
        held = b""
        if b"\r" in buffer:
            # A final lone CR may be half of a CRLF: decide when more arrives.
            if buffer.endswith(b"\r") and not buffer.endswith(b"\r\r"):
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events = []
        start = 0
        while True:
            end = buffer.find(b"\n\n", start)
            if end < 0:
                break
            frame = buffer[start : end + 2]
            start = end + 2
            event = _parse_frame(frame)
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:] + held
        return events

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete frame (left over when a stream is cut)."""
        return self._buffer


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
