"""Fuzz target: ``SSEParser`` on arbitrary bytes in arbitrary reads.

``feed`` documents no error: whatever an upstream sends, it returns events and
never raises. How a body is cut into reads must not change what comes out, and
a valid stream (any mix of LF, CRLF and CR line endings, comments, ids, retry
fields, multi-line data) gives exactly the events it was written from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import strategies as st

from lynkr_core.errors import UpstreamError
from lynkr_core.wire.sse import ServerSentEvent, SSEFrameTooLarge, SSEParser
from tests.fuzz.budget import fuzz_target
from tests.fuzz.strategies import cuts

#: Bytes that mean something to an SSE parser, and some that break UTF-8.
SSE_TOKENS = [
    b"data", b"event", b"id", b"retry", b":", b" ", b"\n", b"\r", b"\r\n", b"\n\n", b"1", b"x",
    b"\xff", b"\xc3", b"\xe2\x82", b"\xe2\x98\x83", b"[DONE]", b"{}",
]
sse_noise = st.lists(st.sampled_from(SSE_TOKENS) | st.binary(max_size=3), max_size=40).map(b"".join)


def feed_all(pieces: list[bytes]) -> tuple[list[ServerSentEvent], bytes]:
    parser = SSEParser()
    out: list[ServerSentEvent] = []
    for piece in pieces:
        out.extend(parser.feed(piece))
    return out, parser.pending


def seen(events: list[ServerSentEvent]) -> list[tuple[str, str, str | None, int | None]]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


@st.composite
def noise_in_reads(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(sse_noise | st.binary(max_size=200))
    return data, draw(cuts(data, max_pieces=20))


@fuzz_target(noise_in_reads(), examples=400)
def test_arbitrary_bytes_in_any_reads_give_what_the_whole_body_gives(
    case: tuple[bytes, list[bytes]],
) -> None:
    data, pieces = case
    events, pending = feed_all(pieces)
    whole, whole_pending = feed_all([data])
    assert seen(events) == seen(whole)
    assert [e.raw for e in events] == [e.raw for e in whole]
    assert pending == whole_pending
    for event in events:
        assert event.raw.endswith(b"\n\n")


@dataclass(frozen=True)
class Sent:
    """One event as an upstream writes it."""

    event: str | None
    data: list[str]
    id: str | None
    retry: int | None


line_text = st.text(st.characters(exclude_characters="\r\n", codec="utf-8"), max_size=12)
sent_events = st.builds(
    Sent,
    event=st.none() | line_text.filter(bool),
    data=st.lists(line_text, min_size=1, max_size=3),
    id=st.none() | line_text,
    retry=st.none() | st.integers(0, 10**6),
)


@st.composite
def valid_streams(draw: st.DrawFn) -> tuple[list[Sent], list[bytes]]:
    sent = draw(st.lists(sent_events, max_size=5))
    lines: list[str] = []
    for event in sent:
        if draw(st.booleans()):
            lines.append(": " + draw(line_text))
        if event.event is not None:
            lines.append("event: " + event.event)
        if event.id is not None:
            lines.append("id: " + event.id)
        if event.retry is not None:
            lines.append(f"retry: {event.retry}")
        lines.extend("data: " + part for part in event.data)
        lines.append("")
    body = b""
    for line in lines:
        endings = [b"\n", b"\r\n", b"\r"]
        if not line and body.endswith(b"\r"):
            endings = endings[1:]  # CR, then an empty line ended by LF, would be one CRLF
        body += line.encode() + draw(st.sampled_from(endings))
    return sent, draw(cuts(body, max_pieces=20))


@fuzz_target(valid_streams(), examples=200)
def test_a_valid_stream_gives_its_events_however_it_is_cut(
    case: tuple[list[Sent], list[bytes]],
) -> None:
    sent, pieces = case
    events, pending = feed_all(pieces)
    expected = [
        (s.event or "message", "\n".join(s.data), s.id, s.retry) for s in sent
    ]
    assert seen(events) == expected
    assert pending in (b"", b"\r")


# Regression tests for what these targets found.


def test_lf_then_cr_ends_the_frame_at_once() -> None:
    """A blank line ended by CR after a line ended by LF dispatches the event (it was
    held back until more bytes came, and lost when the stream ended there)."""
    events, pending = feed_all([b"data: x\n\r"])
    assert seen(events) == [("message", "x", None, None)]
    assert pending == b""


def test_cr_cr_then_lf_in_the_next_read_is_one_line_end() -> None:
    """CR, CRLF cut after the second CR: the LF of the next read completes that CRLF
    (it made an extra blank line, left in ``pending`` and in the next frame's raw)."""
    events, pending = feed_all([b"data: x\r\r", b"\ndata: y\r\n\r\n"])
    assert seen(events) == [("message", "x", None, None), ("message", "y", None, None)]
    assert [e.raw for e in events] == [b"data: x\n\n", b"data: y\n\n"]
    assert pending == b""


def test_a_large_frame_in_small_reads() -> None:
    """A 2 MiB frame in 1 KiB reads (each read used to copy and rescan everything
    before it: seconds of CPU on the event loop for a few MiB)."""
    frame = b"data: " + b"x" * (2 * 1024 * 1024) + b"\n\n"
    events, pending = feed_all([frame[i : i + 1024] for i in range(0, len(frame), 1024)])
    assert [len(e.data) for e in events] == [2 * 1024 * 1024]
    assert pending == b""


def test_a_frame_that_never_ends_is_an_upstream_error() -> None:
    parser = SSEParser(max_frame_bytes=1000)
    assert parser.feed(b"data: " + b"x" * 900) == []
    with pytest.raises(SSEFrameTooLarge) as info:
        parser.feed(b"x" * 200)
    assert isinstance(info.value, UpstreamError)
    assert info.value.status == 502 and "over 1000 bytes" in info.value.message
    assert parser.pending == b""
    assert seen(parser.feed(b"data: next\n\n")) == [("message", "next", None, None)]


@fuzz_target(noise_in_reads(), st.integers(1, 64), examples=200)
def test_a_frame_limit_raises_only_its_own_error(
    case: tuple[bytes, list[bytes]], limit: int
) -> None:
    parser = SSEParser(max_frame_bytes=limit)
    for piece in case[1]:
        try:
            events = parser.feed(piece)
        except SSEFrameTooLarge:
            assert parser.pending == b""
            continue
        assert all(len(e.raw) <= limit + len(piece) for e in events)
        assert len(parser.pending) <= limit
