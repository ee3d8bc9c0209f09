"""MessageAccumulator rebuilds the whole message from a Messages API event stream."""

from __future__ import annotations

import itertools
import json
from typing import Any

import msgspec
import pytest

from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.wire import anthropic as A
from lynkr_core.wire import events as E
from lynkr_core.wire.sse import SSEParser

_json = msgspec.json.decode

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZAaBcD"
CITATION = {
    "type": "char_location",
    "cited_text": "The grass is green.",
    "document_index": 0,
    "document_title": "Facts",
    "start_char_index": 0,
    "end_char_index": 19,
}


def start_message(**usage: Any) -> E.MessageStart:
    return E.MessageStart(
        message=A.MessageResponse(
            id="msg_01",
            model="claude-sonnet-4-5",
            content=[],
            usage=A.Usage(input_tokens=usage.pop("input_tokens", 472), output_tokens=1, **usage),
        )
    )


def block_start(index: int, block: dict[str, Any]) -> E.ContentBlockStart:
    return E.ContentBlockStart(index=index, content_block=A.raw(block))


def delta(index: int, d: Any) -> E.ContentBlockDelta:
    return E.ContentBlockDelta(index=index, delta=d)


def json_parts(index: int, *parts: str) -> list[E.ContentBlockDelta]:
    return [delta(index, E.InputJsonDelta(partial_json=p)) for p in parts]


TOOL_A_INPUT = {"location": "San Francisco, CA", "unit": "celsius", "note": "caf\u00e9 \u2603"}
TOOL_B_INPUT = {"query": "weather", "limit": 3, "nested": {"ok": True, "xs": [1.5, None]}}


def _split_mid_token(value: dict[str, Any], cuts: list[int]) -> list[str]:
    text = json.dumps(value)
    bounds = [0, *cuts, len(text)]
    parts = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert "".join(parts) == text
    return parts


# '{"location": "San Francisco, CA", ...': cuts fall inside a key, inside a
# string value, inside the escape "\u00e9" and inside "true"/"1.5".
A_PARTS = ["", *_split_mid_token(TOOL_A_INPUT, [5, 20, 60, 63, 66])]
B_TEXT = json.dumps(TOOL_B_INPUT)
B_PARTS = _split_mid_token(TOOL_B_INPUT, [3, B_TEXT.index("true") + 2, B_TEXT.index("1.5") + 2])


def full_stream() -> list[Any]:
    return [
        start_message(cache_creation_input_tokens=0, cache_read_input_tokens=2051),
        E.Ping(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, E.ThinkingDelta(thinking="Let me check ")),
        delta(0, E.ThinkingDelta(thinking="the weather.")),
        delta(0, E.SignatureDelta(signature=SIGNATURE)),
        E.ContentBlockStop(index=0),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, E.TextDelta(text="I'll check ")),
        delta(1, E.TextDelta(text="both.")),
        E.ContentBlockStop(index=1),
        block_start(2, {"type": "tool_use", "id": "toolu_A", "name": "get_weather", "input": {}}),
        *json_parts(2, *A_PARTS),
        E.ContentBlockStop(index=2),
        E.Ping(),
        block_start(3, {"type": "tool_use", "id": "toolu_B", "name": "search", "input": {}}),
        *json_parts(3, *B_PARTS),
        E.ContentBlockStop(index=3),
        E.MessageDelta(
            delta=E.MessageDeltaBody(stop_reason="tool_use"),
            usage=E.MessageDeltaUsage(output_tokens=187),
        ),
        E.MessageStop(),
    ]


EXPECTED = {
    "type": "message",
    "id": "msg_01",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "Let me check the weather.", "signature": SIGNATURE},
        {"type": "text", "text": "I'll check both."},
        {"type": "tool_use", "id": "toolu_A", "name": "get_weather", "input": TOOL_A_INPUT},
        {"type": "tool_use", "id": "toolu_B", "name": "search", "input": TOOL_B_INPUT},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 472,
        "output_tokens": 187,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2051,
    },
}


def wire(events: list[Any]) -> bytes:
    return b"".join(E.event_frame(e) for e in events)


def accumulate_wire(data: bytes, chunk: int = 0) -> MessageAccumulator:
    """Parse SSE bytes (in chunks of ``chunk`` bytes, 0 for whole) and accumulate the events."""
    parser = SSEParser()
    acc = MessageAccumulator()
    pieces = [data] if not chunk else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        for sse in parser.feed(piece):
            event = E.decode_event(sse.data)
            assert event.__struct_config__.tag == sse.event
            acc.add(event)
    assert parser.pending == b""
    return acc


def as_dict(message: A.MessageResponse | None) -> dict[str, Any]:
    assert message is not None
    return _json(A.encode(message))


def test_the_mid_token_splits_are_really_mid_token() -> None:
    assert A_PARTS[1] == '{"loc'  # inside a key
    assert A_PARTS[2].endswith("San Fr")  # inside a string value
    assert any(p.endswith("\\") for p in A_PARTS)  # between the backslash and "u00e9"
    assert any(p.endswith("tr") for p in B_PARTS)  # inside true
    assert any(p.endswith("1.") for p in B_PARTS)  # inside a number


def test_full_stream_gives_the_complete_message() -> None:
    acc = accumulate_wire(wire(full_stream()))
    assert as_dict(acc.message()) == EXPECTED
    assert acc.stopped is True
    assert acc.error is None
    assert acc.malformed_inputs == []


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunked_wire_gives_the_same_message(chunk: int) -> None:
    assert as_dict(accumulate_wire(wire(full_stream()), chunk).message()) == EXPECTED


def test_message_is_a_typed_response() -> None:
    message = accumulate_wire(wire(full_stream())).message()
    assert isinstance(message, A.MessageResponse)
    blocks = message.blocks()
    assert [type(b) for b in blocks] == [
        A.ThinkingBlock,
        A.TextBlock,
        A.ToolUseBlock,
        A.ToolUseBlock,
    ]
    assert blocks[0].signature == SIGNATURE
    assert blocks[2].input == TOOL_A_INPUT
    assert message.text() == "I'll check both."
    assert message.usage.output_tokens == 187


def test_decoded_events_equal_the_originals() -> None:
    events = full_stream()
    parser = SSEParser()
    decoded = [E.decode_event(sse.data) for sse in parser.feed(wire(events))]
    assert [E.to_builtins(e) for e in decoded] == [E.to_builtins(e) for e in events]


def test_parallel_tool_use_deltas_interleaved() -> None:
    """Deltas for two open tool_use blocks, interleaved, are kept apart by index."""
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "tool_use", "id": "a", "name": "f", "input": {}}))
    acc.add(block_start(1, {"type": "tool_use", "id": "b", "name": "g", "input": {}}))
    for a, b in zip(['{"x"', ": 1", "}"], ['{"y": ', '"tw', 'o"}'], strict=True):
        acc.add(delta(1, E.InputJsonDelta(partial_json=b)))
        acc.add(delta(0, E.InputJsonDelta(partial_json=a)))
    acc.add(E.ContentBlockStop(index=1))
    acc.add(E.ContentBlockStop(index=0))
    content = as_dict(acc.message())["content"]
    assert content == [
        {"type": "tool_use", "id": "a", "name": "f", "input": {"x": 1}},
        {"type": "tool_use", "id": "b", "name": "g", "input": {"y": "two"}},
    ]


def test_blocks_are_ordered_by_index_not_arrival() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(1, {"type": "text", "text": "second"}))
    acc.add(block_start(0, {"type": "text", "text": "first"}))
    assert [b["text"] for b in as_dict(acc.message())["content"]] == ["first", "second"]


def test_tool_use_without_input_deltas_keeps_the_start_input() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "tool_use", "id": "t", "name": "now", "input": {}}))
    acc.add(E.ContentBlockStop(index=0))
    assert as_dict(acc.message())["content"] == [
        {"type": "tool_use", "id": "t", "name": "now", "input": {}}
    ]


def test_empty_input_json_gives_empty_object() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "tool_use", "id": "t", "name": "now", "input": {}}))
    acc.add(delta(0, E.InputJsonDelta(partial_json="")))
    acc.add(E.ContentBlockStop(index=0))
    assert as_dict(acc.message())["content"][0]["input"] == {}
    assert acc.malformed_inputs == []


def test_malformed_tool_json_is_recorded_and_does_not_raise() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "text", "text": "ok"}))
    acc.add(block_start(1, {"type": "tool_use", "id": "t", "name": "f", "input": {}}))
    acc.add(delta(1, E.InputJsonDelta(partial_json='{"a": ')))
    acc.add(delta(1, E.InputJsonDelta(partial_json="oops}")))
    acc.add(E.ContentBlockStop(index=1))
    assert acc.malformed_inputs == [1]
    content = as_dict(acc.message())["content"]
    assert content[1] == {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    assert content[0] == {"type": "text", "text": "ok"}


def test_unfinished_tool_json_is_finished_by_message() -> None:
    """A stream cut before content_block_stop: message() parses what arrived."""
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}))
    acc.add(delta(0, E.InputJsonDelta(partial_json='{"a": [1,')))
    acc.add(delta(0, E.InputJsonDelta(partial_json=" 2]}")))
    assert as_dict(acc.message())["content"][0]["input"] == {"a": [1, 2]}
    assert acc.stopped is False


def test_truncated_tool_json_at_cut_is_malformed() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}))
    acc.add(delta(0, E.InputJsonDelta(partial_json='{"a": [1,')))
    message = acc.message()
    assert acc.malformed_inputs == [0]
    assert as_dict(message)["content"][0]["input"] == {}


def test_message_before_start_is_none() -> None:
    acc = MessageAccumulator()
    assert acc.message() is None
    acc.add(E.Ping())
    acc.add(E.MessageDelta(delta=E.MessageDeltaBody(stop_reason="end_turn")))
    assert acc.message() is None


def test_message_delta_with_stop_sequence_and_cumulative_usage() -> None:
    acc = MessageAccumulator()
    acc.add(start_message(input_tokens=10))
    acc.add(block_start(0, {"type": "text", "text": ""}))
    acc.add(delta(0, E.TextDelta(text="Hi")))
    acc.add(E.ContentBlockStop(index=0))
    acc.add(
        E.MessageDelta(
            delta=E.MessageDeltaBody(stop_reason="stop_sequence", stop_sequence="STOP"),
            usage=E.MessageDeltaUsage(
                output_tokens=9,
                input_tokens=12,
                cache_creation_input_tokens=3,
                cache_read_input_tokens=4,
            ),
        )
    )
    message = as_dict(acc.message())
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "STOP")
    assert message["usage"] == {
        "input_tokens": 12,
        "output_tokens": 9,
        "cache_creation_input_tokens": 3,
        "cache_read_input_tokens": 4,
    }


def test_message_delta_null_usage_fields_do_not_overwrite() -> None:
    acc = MessageAccumulator()
    acc.add(start_message(input_tokens=10, cache_read_input_tokens=5))
    acc.add(
        E.MessageDelta(
            delta=E.MessageDeltaBody(stop_reason="end_turn"),
            usage=E.MessageDeltaUsage(
                output_tokens=2, input_tokens=None, cache_read_input_tokens=None
            ),
        )
    )
    usage = as_dict(acc.message())["usage"]
    assert usage == {"input_tokens": 10, "output_tokens": 2, "cache_read_input_tokens": 5}


def test_citations_delta_is_added_to_the_text_block() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "text", "text": ""}))
    acc.add(delta(0, E.CitationsDelta(citation=A.raw(CITATION))))
    acc.add(delta(0, E.TextDelta(text="the grass is green")))
    acc.add(delta(0, E.CitationsDelta(citation=A.raw({**CITATION, "start_char_index": 1}))))
    acc.add(E.ContentBlockStop(index=0))
    assert as_dict(acc.message())["content"] == [
        {
            "type": "text",
            "text": "the grass is green",
            "citations": [CITATION, {**CITATION, "start_char_index": 1}],
        }
    ]


def test_unknown_block_types_pass_through_the_accumulator() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    search = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
    acc.add(block_start(0, search))
    acc.add(delta(0, E.InputJsonDelta(partial_json='{"query": "x"}')))
    acc.add(E.ContentBlockStop(index=0))
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    acc.add(block_start(1, result))
    acc.add(E.ContentBlockStop(index=1))
    future = {"type": "future_block", "x": [1, {"y": None}]}
    acc.add(block_start(2, future))
    acc.add(E.ContentBlockStop(index=2))
    assert as_dict(acc.message())["content"] == [
        {**search, "input": {"query": "x"}},
        result,
        future,
    ]


def test_error_event_is_recorded() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(block_start(0, {"type": "text", "text": ""}))
    acc.add(delta(0, E.TextDelta(text="partial")))
    frame = E.error_frame("overloaded_error", "Overloaded")
    (sse,) = SSEParser().feed(frame)
    acc.add(E.decode_event(sse.data))
    assert acc.error == E.ErrorEvent(
        error=E.ErrorDetail(type="overloaded_error", message="Overloaded")
    )
    assert acc.stopped is False
    assert as_dict(acc.message())["content"] == [{"type": "text", "text": "partial"}]


def test_message_can_be_called_twice_and_is_a_copy() -> None:
    acc = accumulate_wire(wire(full_stream()))
    first = acc.message()
    second = acc.message()
    assert as_dict(first) == as_dict(second) == EXPECTED
    first.usage.output_tokens = 1
    assert acc.message().usage.output_tokens == 187


# Regression test (found as a bug): BUG: MessageAccumulator._add_message_delta copies input/cache token counts from the message_delta usage but not server_tool_use, so a streamed web-sea
def test_message_delta_server_tool_use_reaches_the_usage() -> None:
    acc = MessageAccumulator()
    acc.add(start_message())
    acc.add(
        E.MessageDelta(
            delta=E.MessageDeltaBody(stop_reason="end_turn"),
            usage=E.MessageDeltaUsage(
                output_tokens=5, server_tool_use=A.raw({"web_search_requests": 1})
            ),
        )
    )
    assert as_dict(acc.message())["usage"].get("server_tool_use") == {"web_search_requests": 1}


# Regression test for a bug found while writing these tests.
def test_real_message_start_with_cache_creation_decodes() -> None:
    data = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 3,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": 1,
                "service_tier": "standard",
            },
        },
    }
    event = E.decode_event(json.dumps(data))
    assert E.to_builtins(event) == data


# Regression test for a bug found while writing these tests.
def test_real_message_delta_with_server_tool_use_decodes() -> None:
    data = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 5, "server_tool_use": {"web_search_requests": 1}},
    }
    assert E.to_builtins(E.decode_event(json.dumps(data))) == data


# --------------------------------------------------------------------------- #
# Frames and event decoding


def test_event_frame_format_is_exact() -> None:
    assert E.event_frame(E.Ping()) == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert (
        E.event_frame(E.MessageStop()) == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    assert E.event_frame(E.ContentBlockStop(index=3)) == (
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":3}\n\n'
    )
    assert E.event_frame(delta(0, E.TextDelta(text="a\nb"))) == (
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\nb"}}\n\n'
    )


def test_error_frame_format_is_exact() -> None:
    assert E.error_frame("overloaded_error", "Overloaded") == (
        b"event: error\n"
        b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )


def test_frame_data_is_a_single_line() -> None:
    """Text with newlines must stay on one ``data:`` line (JSON escapes them)."""
    frame = E.event_frame(delta(0, E.TextDelta(text="line1\nline2\r\n\n")))
    assert frame.count(b"\n") == 3
    (sse,) = SSEParser().feed(frame)
    assert E.decode_event(sse.data).delta.text == "line1\nline2\r\n\n"


EVENT_SAMPLES: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 0},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "input_json_delta", "partial_json": '{"a'},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": "hm"},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "signature_delta", "signature": SIGNATURE},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "citations_delta", "citation": CITATION},
    },
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 15},
    },
    {"type": "message_stop"},
    {"type": "ping"},
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
]


@pytest.mark.parametrize(
    "data", EVENT_SAMPLES, ids=lambda d: d.get("delta", {}).get("type") or d["type"]
)
def test_decode_event_round_trip(data: dict[str, Any]) -> None:
    event = E.decode_event(json.dumps(data).encode())
    assert event.__struct_config__.tag == data["type"]
    assert E.to_builtins(event) == data
    (sse,) = SSEParser().feed(E.event_frame(event))
    assert sse.event == data["type"]
    assert json.loads(sse.data) == data


def test_known_event_types() -> None:
    assert {d["type"] for d in EVENT_SAMPLES} == E.KNOWN_EVENT_TYPES


def test_unknown_event_or_delta_type_raises() -> None:
    with pytest.raises(msgspec.ValidationError):
        E.decode_event(b'{"type":"future_event"}')
    with pytest.raises(msgspec.ValidationError, match=r"\$\.delta"):
        E.decode_event(b'{"type":"content_block_delta","index":0,"delta":{"type":"future_delta"}}')
