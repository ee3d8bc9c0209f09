"""SSEParser: bytes in arbitrary pieces, complete events out, raw frames kept."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr_core.wire.sse import ServerSentEvent, SSEParser

MESSAGE_START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1},
    },
}
DELTA = {
    "type": "content_block_delta",
    "index": 0,
    "delta": {"type": "text_delta", "text": "Hé ☃ llo"},
}
STOP = {"type": "message_stop"}


def frame(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


FRAMES = [
    frame("message_start", MESSAGE_START),
    frame("content_block_delta", DELTA),
    frame("message_stop", STOP),
]
STREAM = b"".join(FRAMES)
EXPECTED = [
    ("message_start", MESSAGE_START),
    ("content_block_delta", DELTA),
    ("message_stop", STOP),
]


def summary(events: list[ServerSentEvent]) -> list[tuple[str, dict]]:
    return [(e.event, json.loads(e.data)) for e in events]


def feed_chunks(chunks: list[bytes]) -> tuple[list[ServerSentEvent], SSEParser]:
    parser = SSEParser()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events, parser


def test_whole_stream_at_once() -> None:
    parser = SSEParser()
    events = parser.feed(STREAM)
    assert summary(events) == EXPECTED
    assert [e.raw for e in events] == FRAMES
    assert parser.pending == b""


def test_events_come_out_as_soon_as_their_frame_is_complete() -> None:
    parser = SSEParser()
    assert parser.feed(FRAMES[0][:-1]) == []
    assert summary(parser.feed(b"\n" + FRAMES[1])) == EXPECTED[:2]
    assert summary(parser.feed(FRAMES[2])) == EXPECTED[2:]


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_every_split_point(cut: int) -> None:
    events, parser = feed_chunks([STREAM[:cut], STREAM[cut:]])
    assert summary(events) == EXPECTED
    assert b"".join(e.raw for e in events) == STREAM
    assert parser.pending == b""


def test_byte_by_byte() -> None:
    events, parser = feed_chunks([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert summary(events) == EXPECTED
    assert [e.raw for e in events] == FRAMES
    assert parser.pending == b""


def test_empty_chunks_change_nothing() -> None:
    events, _ = feed_chunks([b"", STREAM[:10], b"", STREAM[10:], b""])
    assert summary(events) == EXPECTED


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(chunkings(STREAM))
def test_random_chunkings(chunks: list[bytes]) -> None:
    events, parser = feed_chunks(chunks)
    assert summary(events) == EXPECTED
    assert [e.raw for e in events] == FRAMES
    assert parser.pending == b""


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_line_endings(newline: bytes) -> None:
    stream = STREAM.replace(b"\n", newline)
    events, parser = feed_chunks([stream])
    assert summary(events) == EXPECTED
    assert parser.pending == b""


def test_mixed_line_endings() -> None:
    stream = b"event: a\r\ndata: 1\n\rdata: 2\r\rdata: 3\n\n"
    events, _ = feed_chunks([stream])
    assert [(e.event, e.data) for e in events] == [("a", "1"), ("message", "2"), ("message", "3")]


@pytest.mark.parametrize("newline", [b"\n", b"\r"], ids=["lf", "cr"])
def test_every_split_point_with_single_char_line_endings(newline: bytes) -> None:
    stream = STREAM.replace(b"\n", newline)
    for cut in range(1, len(stream)):
        events, _ = feed_chunks([stream[:cut], stream[cut:]])
        assert summary(events) == EXPECTED, cut


# Regression test (found as a bug): BUG: SSEParser.feed normalises a chunk's trailing '\\r' to '\\n' before the next chunk arrives; when a CRLF is split between two chunks, the '\\n' tha
def test_crlf_split_between_cr_and_lf() -> None:
    stream = STREAM.replace(b"\n", b"\r\n")
    for cut in range(1, len(stream)):
        events, _ = feed_chunks([stream[:cut], stream[cut:]])
        assert summary(events) == EXPECTED, cut


# Regression test (found as a bug): BUG: same CRLF split bug, minimal case
def test_crlf_split_keeps_event_name() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: ping\r") == []
    events = parser.feed(b'\ndata: {"type":"ping"}\r\n\r\n')
    assert [(e.event, e.data) for e in events] == [("ping", '{"type":"ping"}')]


def test_comment_lines_are_skipped() -> None:
    stream = b": keep-alive\n\n" + b":another\nevent: ping\n: inside a frame\ndata: {}\n\n"
    events, _ = feed_chunks([stream])
    assert [(e.event, e.data) for e in events] == [("ping", "{}")]


def test_multi_line_data_joined_with_newline() -> None:
    events, _ = feed_chunks([b"data: first\ndata: second\ndata:third\ndata\n\n"])
    assert [e.data for e in events] == ["first\nsecond\nthird\n"]
    assert events[0].event == "message"


def test_only_one_leading_space_is_stripped() -> None:
    events, _ = feed_chunks([b"event:  spaced\ndata:  two\n\n"])
    assert (events[0].event, events[0].data) == (" spaced", " two")


def test_colon_in_value_is_kept() -> None:
    events, _ = feed_chunks([b'data: {"a":"b:c"}\n\n'])
    assert events[0].data == '{"a":"b:c"}'


def test_id_and_retry() -> None:
    events, _ = feed_chunks([b"id: 42\nretry: 3000\nevent: x\ndata: y\n\n"])
    assert events[0].id == "42"
    assert events[0].retry == 3000
    assert (events[0].event, events[0].data) == ("x", "y")


def test_id_and_retry_default_to_none() -> None:
    events, _ = feed_chunks([b"data: y\n\n"])
    assert (events[0].id, events[0].retry) == (None, None)


def test_non_numeric_retry_is_ignored() -> None:
    events, _ = feed_chunks([b"retry: soon\ndata: y\n\n"])
    assert events[0].retry is None
    assert events[0].data == "y"


def test_unknown_fields_are_ignored() -> None:
    events, _ = feed_chunks([b"foo: bar\ndata: y\n\n"])
    assert [(e.event, e.data) for e in events] == [("message", "y")]


def test_event_without_data_is_not_dispatched() -> None:
    events, parser = feed_chunks(
        [b"event: ping\n\n", b"id: 1\nretry: 5\n\n", b"event: x\ndata: 1\n\n"]
    )
    assert [(e.event, e.data) for e in events] == [("x", "1")]
    assert parser.pending == b""


def test_event_name_does_not_leak_into_the_next_frame() -> None:
    events, _ = feed_chunks([b"event: a\ndata: 1\n\ndata: 2\n\n"])
    assert [(e.event, e.data) for e in events] == [("a", "1"), ("message", "2")]


def test_empty_data_line_is_dispatched() -> None:
    events, _ = feed_chunks([b"data:\n\n"])
    assert [(e.event, e.data) for e in events] == [("message", "")]


def test_blank_lines_between_frames() -> None:
    events, _ = feed_chunks([b"\n\n\n" + FRAMES[0] + b"\n\n" + FRAMES[1]])
    assert summary(events) == EXPECTED[:2]


def test_raw_keeps_the_frame() -> None:
    odd = b": comment\nid: 7\nevent: x\ndata: a\ndata: b\n\n"
    events, _ = feed_chunks([odd[:5], odd[5:20], odd[20:]])
    assert len(events) == 1
    assert events[0].raw == odd


def test_pending_holds_an_incomplete_frame() -> None:
    parser = SSEParser()
    assert parser.pending == b""
    events = parser.feed(FRAMES[0] + FRAMES[1][:15])
    assert summary(events) == EXPECTED[:1]
    assert parser.pending == FRAMES[1][:15]
    parser.feed(FRAMES[1][15:-1])
    assert parser.pending == FRAMES[1][:-1]
    assert summary(parser.feed(b"\n")) == EXPECTED[1:2]
    assert parser.pending == b""


def test_frame_without_final_blank_line_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: message_stop\ndata: {}\n") == []
    assert parser.pending == b"event: message_stop\ndata: {}\n"


def test_invalid_utf8_does_not_raise() -> None:
    events, _ = feed_chunks([b"event: x\xff\ndata: a\xc3\x28b\xe2\x82\n\n"])
    assert len(events) == 1
    assert events[0].event.startswith("x")
    assert "\ufffd" in events[0].data
    assert events[0].raw == b"event: x\xff\ndata: a\xc3\x28b\xe2\x82\n\n"


def test_multibyte_character_split_across_chunks() -> None:
    data = frame("content_block_delta", DELTA)
    cut = data.index("☃".encode()) + 1
    events, _ = feed_chunks([data[:cut], data[cut:]])
    assert json.loads(events[0].data)["delta"]["text"] == "Hé ☃ llo"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=5))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    """Whatever an upstream sends, feed returns events and never raises (LF-only data)."""
    data = data.replace(b"\r", b"")
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    events, parser = feed_chunks(chunks)
    whole = SSEParser().feed(data)
    assert [(e.event, e.data, e.raw) for e in events] == [(e.event, e.data, e.raw) for e in whole]
    assert all(e.raw.endswith(b"\n\n") and e.raw in data for e in events)
    assert data.endswith(parser.pending)


# Regression test for a bug found while writing these tests.
def test_non_ascii_digit_retry_is_ignored() -> None:
    events, _ = feed_chunks(["retry: ²\ndata: y\n\n".encode()])
    assert events[0].retry is None


# Regression test (found as a bug): BUG: an empty 'event:' field gives event type '' instead of 'message' (WHATWG: an empty event type buffer dispatches as 'message'
def test_empty_event_name_means_message() -> None:
    events, _ = feed_chunks([b"event:\ndata: x\n\n"])
    assert events[0].event == "message"
