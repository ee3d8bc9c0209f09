"""Stream helpers: ``EventTap``/``tap`` watch a stream, ``message_events``/``message_frames`` replay one."""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import msgspec
import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from lynkr_core import streams
from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.streams import EventTap, message_events, message_frames, tap
from lynkr_core.testing import messages as M
from lynkr_core.testing.server import serving
from lynkr_core.wire.anthropic import MessageResponse, decode_response, encode
from lynkr_core.wire.events import StreamEvent, decode_event, to_builtins
from lynkr_core.wire.sse import SSEParser

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZAaBcD"
CITATIONS = [
    {
        "type": "char_location",
        "cited_text": "The grass is green.",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 19,
    },
    {
        "type": "web_search_result_location",
        "cited_text": "Sky: blue",
        "url": "https://example.com/sky",
        "title": "Sky",
        "encrypted_index": "EpMBCioI",
    },
]
SEARCH_RESULTS = [
    {
        "type": "web_search_result",
        "url": "https://example.com/sky",
        "title": "Sky",
        "encrypted_content": "EqgfCioIARgBIiQ3",
        "page_age": None,
    }
]

EVERY_BLOCK = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "Let me check the weather.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        {"type": "text", "text": "Searching. "},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_01",
            "name": "web_search",
            "input": {"query": "sky"},
        },
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": SEARCH_RESULTS},
        {"type": "text", "text": "The grass is green and the sky blue.", "citations": CITATIONS},
        {"type": "hologram_2099", "payload": {"beams": [1, 2.5, None, "caf\u00e9 \u2603"]}},
        {
            "type": "tool_use",
            "id": "toolu_01",
            "name": "get_weather",
            "input": {"location": "San Francisco, CA", "nested": {"ok": True, "xs": [1.5, None]}},
        },
        {"type": "tool_use", "id": "toolu_02", "name": "now", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 472,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2051,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 163,
        "server_tool_use": {"web_search_requests": 1},
        "service_tier": "standard",
    },
    "container": {"id": "container_01", "expires_at": "2030-01-01T00:00:00Z"},
}

PLAIN = {
    "id": "msg_02",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5",
    "content": [{"type": "text", "text": "Hi!"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 3},
}


def message(body: dict[str, Any]) -> MessageResponse:
    return decode_response(msgspec.json.encode(body))


def as_json(value: MessageResponse | None) -> Any:
    assert value is not None
    return msgspec.json.decode(encode(value))


def accumulate(events: list[StreamEvent]) -> MessageResponse | None:
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.add(event)
    assert accumulator.stopped and accumulator.error is None and not accumulator.malformed_inputs
    return accumulator.message()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if a < b]


async def source(chunks: list[bytes], closed: list[bool] | None = None) -> AsyncIterator[bytes]:
    try:
        for chunk in chunks:
            await asyncio.sleep(0)
            yield chunk
    finally:
        if closed is not None:
            closed.append(True)


# --------------------------------------------------------------------------- #
# message_events: the shapes, and the round trip


def test_events_have_the_shapes_anthropic_sends() -> None:
    body = copy.deepcopy(EVERY_BLOCK)
    body["content"] = [body["content"][i] for i in (0, 1, 5, 7)]
    events = [to_builtins(e) for e in message_events(message(body))]

    start = events[0]["message"]
    assert (
        start["content"] == [] and start["stop_reason"] is None and start["stop_sequence"] is None
    )
    assert start["usage"] == {
        "input_tokens": 472,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2051,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "service_tier": "standard",
    }
    assert events[1:] == [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Let me check the weather."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": SIGNATURE},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        },
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "citations_delta", "citation": CITATIONS[0]},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "citations_delta", "citation": CITATIONS[1]},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "text_delta", "text": "The grass is green and the sky blue."},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "content_block_start",
            "index": 3,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "get_weather",
                "input": {},
            },
        },
        {
            "type": "content_block_delta",
            "index": 3,
            "delta": {
                "type": "input_json_delta",
                "partial_json": msgspec.json.encode(body["content"][3]["input"]).decode(),
            },
        },
        {"type": "content_block_stop", "index": 3},
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "container": EVERY_BLOCK["container"],
            },
            "usage": {
                "output_tokens": 163,
                "input_tokens": 472,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 2051,
                "server_tool_use": {"web_search_requests": 1},
            },
        },
        {"type": "message_stop"},
    ]


def test_frames_are_the_events_as_sse() -> None:
    frames = message_frames(message(PLAIN))
    assert frames[0].startswith(b"event: message_start\ndata: {")
    assert [f.split(b"\n", 1)[0] for f in frames] == [
        b"event: message_start",
        b"event: content_block_start",
        b"event: content_block_delta",
        b"event: content_block_stop",
        b"event: message_delta",
        b"event: message_stop",
    ]
    assert all(f.endswith(b"}\n\n") and f.count(b"\n") == 3 for f in frames)


@pytest.mark.parametrize("body", [EVERY_BLOCK, PLAIN], ids=["every_block", "plain"])
@pytest.mark.parametrize("chunk_size", [None, 1, 4])
def test_the_accumulator_rebuilds_the_message(body: dict[str, Any], chunk_size: int | None) -> None:
    original = message(body)
    assert as_json(accumulate(message_events(original, chunk_size))) == as_json(original) == body


def test_long_text_may_go_out_in_pieces_and_the_result_is_deterministic() -> None:
    body = copy.deepcopy(PLAIN)
    body["content"] = [
        {"type": "text", "text": "abcdefghij"},
        {"type": "thinking", "thinking": "12345", "signature": SIGNATURE},
    ]
    events = [to_builtins(e) for e in message_events(message(body), chunk_size=4)]
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert deltas == [
        {"type": "text_delta", "text": "abcd"},
        {"type": "text_delta", "text": "efgh"},
        {"type": "text_delta", "text": "ij"},
        {"type": "thinking_delta", "thinking": "1234"},
        {"type": "thinking_delta", "thinking": "5"},
        {"type": "signature_delta", "signature": SIGNATURE},
    ]
    assert message_frames(message(body), 4) == message_frames(message(body), 4)
    assert message_frames(message(EVERY_BLOCK)) == message_frames(message(EVERY_BLOCK))


def test_edge_blocks_round_trip() -> None:
    """Empty text, null/empty citations, thinking with no text or no signature, null input."""
    body = copy.deepcopy(PLAIN)
    body["content"] = [
        {"type": "text", "text": ""},
        {"type": "text", "text": "a", "citations": None},
        {"type": "text", "text": "b", "citations": []},
        {"type": "thinking", "thinking": "", "signature": SIGNATURE},
        {"type": "thinking", "thinking": "unsigned"},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": None},
    ]
    assert as_json(accumulate(message_events(message(body)))) == body


def test_stop_details_and_output_details_go_out_in_message_delta() -> None:
    body = copy.deepcopy(PLAIN)
    body["stop_reason"] = "refusal"
    body["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": None}
    body["usage"]["output_tokens_details"] = {"thinking_tokens": 2}
    events = [to_builtins(e) for e in message_events(message(body))]
    assert "stop_details" not in events[0]["message"]
    assert "output_tokens_details" not in events[0]["message"]["usage"]
    assert events[-2]["delta"]["stop_details"] == body["stop_details"]
    assert events[-2]["usage"]["output_tokens_details"] == {"thinking_tokens": 2}


# --------------------------------------------------------------------------- #
# Property: any message survives message_frames -> tap (any chunking) -> accumulator

_citations = st.lists(st.sampled_from(CITATIONS), min_size=1, max_size=2)
_blocks = st.one_of(
    M.text_blocks(cached=False),
    st.builds(lambda b, c: {**b, "citations": c}, M.text_blocks(cached=False), _citations),
    M.thinking_blocks,
    M.redacted_thinking_blocks,
    st.builds(
        lambda i, n, x: {"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": x},
        M.ids,
        M.tool_names,
        st.dictionaries(st.text(max_size=8), M.json_values, max_size=3),
    ),
    st.builds(
        lambda i, x: {
            "type": "server_tool_use",
            "id": f"srvtoolu_{i}",
            "name": "web_search",
            "input": x,
        },
        M.ids,
        st.fixed_dictionaries({"query": M.any_texts}),
    ),
    st.builds(lambda x: {"type": "mystery_block", "value": x}, M.json_values),
)
_usage = st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 10**6), "output_tokens": st.integers(0, 10**5)},
    optional={
        "cache_creation_input_tokens": st.integers(0, 10**6) | st.none(),
        "cache_read_input_tokens": st.integers(0, 10**6) | st.none(),
        "server_tool_use": st.fixed_dictionaries({"web_search_requests": st.integers(0, 5)}),
        "service_tier": st.sampled_from(["standard", "priority"]),
    },
)
messages = st.fixed_dictionaries(
    {
        "id": M.ids.map("msg_{}".format),
        "type": st.just("message"),
        "role": st.just("assistant"),
        "model": M.model_names,
        "content": st.lists(_blocks, max_size=6),
        "stop_reason": st.sampled_from(
            ["end_turn", "max_tokens", "tool_use", "pause_turn", "refusal"]
        ),
        "stop_sequence": st.none(),
        "usage": _usage,
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=messages, chunk_size=st.none() | st.integers(1, 8), data=st.data())
def test_any_message_survives_replay_and_tap(
    body: dict[str, Any], chunk_size: int | None, data: st.DataObject
) -> None:
    original = message(body)
    stream = b"".join(message_frames(original, chunk_size))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    accumulator = MessageAccumulator()
    watcher = EventTap(accumulator.add)
    for chunk in split(stream, cuts):
        watcher.feed(chunk)
    assert accumulator.stopped and not accumulator.malformed_inputs
    assert as_json(accumulator.message()) == as_json(original)


# --------------------------------------------------------------------------- #
# The official SDK reads the replay


def replay_app(frames: list[bytes]) -> Starlette:
    async def messages_route(request: Request) -> StreamingResponse:
        await request.body()

        async def body() -> AsyncIterator[bytes]:
            for frame in frames:
                yield frame

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/messages", messages_route, methods=["POST"])])


@pytest.mark.parametrize("chunk_size", [None, 3])
async def test_the_anthropic_sdk_reads_the_replay(chunk_size: int | None) -> None:
    body = copy.deepcopy(EVERY_BLOCK)
    body["content"] = [b for b in body["content"] if b["type"] != "hologram_2099"]
    body["usage"]["output_tokens_details"] = {"thinking_tokens": 12}
    body["stop_reason"] = "refusal"
    body["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": "no"}
    original = message(body)
    app = replay_app(message_frames(original, chunk_size))
    async with (
        serving(app) as url,
        anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk,
    ):
        async with sdk.messages.stream(
            model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            final = await stream.get_final_message()
    got = final.to_dict(mode="json", exclude_none=False)
    assert got["content"][0] == body["content"][0]  # thinking with its signature
    assert got["content"][3]["input"] == {"query": "sky"}
    assert got["content"][5]["citations"] == CITATIONS
    assert got["content"][6]["input"] == body["content"][6]["input"]
    assert got["content"][7]["input"] == {}
    want = copy.deepcopy(body)
    want["container"]["expires_at"] = got["container"]["expires_at"]  # the SDK parses the datetime
    assert _without_nulls(got) == _without_nulls(want)


def _without_nulls(value: Any) -> Any:
    """JSON with null-valued keys removed (the SDK sets optional fields to None)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


async def test_the_sdk_reads_a_replayed_unknown_block() -> None:
    body = copy.deepcopy(PLAIN)
    body["content"] = [EVERY_BLOCK["content"][6], {"type": "text", "text": "after"}]
    app = replay_app(message_frames(message(body)))
    async with (
        serving(app) as url,
        anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk,
    ):
        async with sdk.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            final = await stream.get_final_message()
    assert final.content[1].text == "after"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 3


# --------------------------------------------------------------------------- #
# tap


class Recorder:
    def __init__(self) -> None:
        self.events: list[StreamEvent] = []

    def __call__(self, event: StreamEvent) -> None:
        self.events.append(event)


async def test_chunks_pass_unchanged_even_split_at_every_byte() -> None:
    original = message(EVERY_BLOCK)
    stream = b"".join(message_frames(original, chunk_size=5))
    chunks = [stream[i : i + 1] for i in range(len(stream))]
    accumulator = MessageAccumulator()
    out = [chunk async for chunk in tap(source(chunks), accumulator.add)]
    assert out == chunks
    assert as_json(accumulator.message()) == as_json(original)


@pytest.mark.parametrize("cuts", [[], [7, 100, 101, 350], list(range(0, 5000, 97))])
async def test_every_observer_sees_each_event_exactly_once(cuts: list[int]) -> None:
    original = message(EVERY_BLOCK)
    stream = b"".join(message_frames(original))
    chunks = split(stream, cuts)
    first, second = Recorder(), Recorder()
    out = [chunk async for chunk in tap(source(chunks), first, second)]
    assert out == chunks
    sent = [decode_event(msgspec.json.encode(e)) for e in message_events(original)]
    assert [to_builtins(e) for e in first.events] == [to_builtins(e) for e in sent]
    assert len(second.events) == len(first.events)
    assert all(a is b for a, b in zip(first.events, second.events, strict=True))  # decoded once


async def test_a_raising_observer_is_dropped_and_the_stream_completes() -> None:
    frames = message_frames(message(EVERY_BLOCK))
    calls: list[str] = []

    def broken(event: StreamEvent) -> None:
        calls.append(type(event).__name__)
        if len(calls) == 3:
            raise RuntimeError("observer bug")

    before, after = Recorder(), Recorder()
    with structlog.testing.capture_logs() as logs:
        out = [chunk async for chunk in tap(source(frames), before, broken, after)]
    assert out == frames
    assert len(calls) == 3
    assert len(before.events) == len(after.events) == len(frames)
    dropped = [entry for entry in logs if entry["event"] == "stream_observer_dropped"]
    assert len(dropped) == 1 and dropped[0]["log_level"] == "error"


async def test_unknown_events_and_unreadable_data_are_skipped() -> None:
    frames = message_frames(message(PLAIN))
    odd = [
        b'event: brand_new_event\ndata: {"type":"brand_new_event","x":1}\n\n',
        b"event: content_block_delta\ndata: {not json\n\n",
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"future_delta"}}\n\n',
        b": a comment\n\n",
        b'event: ping\ndata: {"type": "ping"}\n\n',
    ]
    mixed = [frames[0], *odd, *frames[1:]]
    recorder = Recorder()
    accumulator = MessageAccumulator()
    out = [chunk async for chunk in tap(source(mixed), recorder, accumulator.add)]
    assert out == mixed
    names = [e.__struct_config__.tag for e in recorder.events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert as_json(accumulator.message()) == PLAIN


async def test_without_observers_bytes_pass_through_untouched() -> None:
    chunks = [b"not\r\nsse at all", b"\x00\xff", b"data: {broken\n\n"]
    assert [chunk async for chunk in tap(source(chunks))] == chunks


@pytest.mark.parametrize("observers", [(), (Recorder(),)], ids=["bare", "observed"])
async def test_closing_the_tap_closes_the_source(observers: tuple[Any, ...]) -> None:
    closed: list[bool] = []
    stream = tap(source(message_frames(message(EVERY_BLOCK)), closed), *observers)
    await anext(stream)
    assert not closed
    await stream.aclose()
    assert closed == [True]


class Endless:
    """A source that is not a generator: it closes only when someone calls ``aclose``."""

    def __init__(self) -> None:
        self.closed = False
        self.pulled = 0
        self.flowing = asyncio.Event()  # set once a few frames went out

    def __aiter__(self) -> Endless:
        return self

    async def __anext__(self) -> bytes:
        await asyncio.sleep(0.001)
        self.pulled += 1
        if self.pulled == 3:
            self.flowing.set()
        return b'event: ping\ndata: {"type":"ping"}\n\n'

    async def aclose(self) -> None:
        self.closed = True


async def test_cancelling_the_tap_closes_the_source() -> None:
    frames = Endless()
    recorder = Recorder()

    async def consume() -> None:
        async for _ in tap(frames, recorder):
            pass

    task = asyncio.create_task(consume())
    await frames.flowing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert frames.closed
    assert len(recorder.events) >= 3


async def test_a_frame_too_large_to_watch_stops_the_watching_not_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "SSEParser", functools.partial(SSEParser, max_frame_bytes=64))
    frames = [b"event: ping\n", b"data: " + b"x" * 100, b"\n\n", *message_frames(message(PLAIN))]
    recorder = Recorder()
    with structlog.testing.capture_logs() as logs:
        out = [chunk async for chunk in tap(source(frames), recorder)]
    assert out == frames
    assert recorder.events == []
    assert [entry["event"] for entry in logs] == ["stream_not_observed"]
