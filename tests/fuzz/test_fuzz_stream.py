"""Fuzz target: an OpenAI chat-completion stream -> Anthropic Messages events.

Two ways in. The whole provider path: the bytes of an upstream's SSE body
(chunks well-formed, odd or corrupted, comments, CR/CRLF line endings, with
or without ``[DONE]``) cut into arbitrary reads, through
``OpenAIChatProvider.chunks`` and ``translate_stream``. And the translator
alone: chunk sequences with keep-alive pauses (``None``) and several chunks
per read. Either way the client must get what the pipeline makes of it: an
HTTP error (an ``UpstreamError`` before the first byte) or a well-formed
event stream (``tests.fuzz.wellformed.check_stream``) that ends with
``message_stop`` or an ``error`` event. Anything but a ``LynkrError`` would
be an internal error: a 500, or a stream cut with "internal error".
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from hypothesis import strategies as st

from lynkr_core.errors import LynkrError, UpstreamError
from lynkr_core.openai_chat import OpenAIChatProvider
from lynkr_core.translate import StreamTranslator, extractor_factory, translate_stream
from lynkr_core.wire import openai
from lynkr_core.wire.events import error_frame
from tests.fuzz.budget import fuzz_target
from tests.fuzz.strategies import TEXT_TOOLS, sse_bodies, stream_documents
from tests.fuzz.wellformed import check_stream

MODEL = "claude-sonnet-4-5"
PROVIDER = OpenAIChatProvider("fuzz", url="http://127.0.0.1:9/v1/chat/completions", ping_interval=0)
_loop: asyncio.AbstractEventLoop | None = None


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` on one event loop kept for the module (a loop per example
    would cost more than the example)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


class Body:
    """The part of an aiohttp response ``OpenAIChatProvider.chunks`` reads: reads
    of the body as they come, then ``b""`` at its end."""

    content_type = "text/event-stream"

    def __init__(self, reads: list[bytes]) -> None:
        self._reads = deque(read for read in reads if read)
        self.content = self

    async def readany(self) -> bytes:
        return self._reads.popleft() if self._reads else b""


async def client_sees(frames: AsyncIterator[bytes]) -> tuple[bytes, LynkrError | None]:
    """The body a client gets, as ``Pipeline.stream`` makes it: an error before the
    first byte is the HTTP answer; after it, an ``error`` event ends the stream."""
    out: list[bytes] = []
    try:
        async for frame in frames:
            assert frame, "an empty write"
            out.append(frame)
    except LynkrError as exc:
        assert 400 <= exc.status <= 599 and exc.message, exc
        if not out:
            return b"", exc
        out.append(error_frame(exc.error_type, exc.message))
    return b"".join(out), None


def translator(text_tools: bool) -> StreamTranslator:
    return StreamTranslator(
        model=MODEL,
        input_tokens=12,
        stop_sequences=["STOP"],
        tool_text=extractor_factory(TEXT_TOOLS) if text_tools else None,
    )


def check(body: bytes, error: LynkrError | None) -> None:
    if error is not None:
        assert isinstance(error, UpstreamError), error
        return
    summary = check_stream(body)
    for block in summary.blocks:
        if block["type"] == "text":
            assert block["text"], "an empty text block"


@fuzz_target(sse_bodies(), st.booleans(), examples=60)
def test_any_upstream_body_gives_a_well_formed_stream_or_an_upstream_error(
    reads: list[bytes], text_tools: bool
) -> None:
    frames = translate_stream(PROVIDER.chunks(Body(reads)), translator(text_tools))  # type: ignore[arg-type]
    check(*run(client_sees(frames)))


@st.composite
def chunk_feeds(draw: st.DrawFn) -> list[Any]:
    """What ``translate_stream`` is given: chunks (an unreadable one the provider turns
    into an ``UpstreamError``), ``None`` for a keep-alive pause, and lists of the
    chunks that came in one read."""
    feed: list[Any] = []
    documents = stream_documents(draw)
    while documents:
        kind = draw(st.sampled_from(["chunk", "chunk", "batch", "pause"]))
        if kind == "pause":
            feed.append(None)
        elif kind == "batch":
            size = draw(st.integers(1, 3))
            feed.append(documents[:size])
            del documents[:size]
        else:
            feed.append(documents.pop(0))
    return feed


async def chunk_source(feed: list[Any]) -> AsyncIterator[Any]:
    for item in feed:
        if item is None:
            yield None
        elif isinstance(item, list):
            yield [decode(document) for document in item]
        else:
            yield decode(item)


def decode(document: bytes) -> openai.ChatCompletionChunk:
    """A chunk as ``OpenAIChatProvider.decode_chunk`` reads it (from the SSE parser's text)."""
    try:
        return openai.decode_chunk(document.decode("utf-8", errors="replace"))
    except msgspec.MsgspecError as exc:
        raise UpstreamError(f"upstream sent an unreadable stream chunk: {exc}") from exc


@fuzz_target(chunk_feeds(), st.booleans(), examples=100)
def test_any_chunk_sequence_gives_a_well_formed_stream_or_an_upstream_error(
    feed: list[Any], text_tools: bool
) -> None:
    frames = translate_stream(chunk_source(feed), translator(text_tools))
    check(*run(client_sees(frames)))


def test_the_checker_catches_a_block_left_open() -> None:
    """``check_stream`` is what these targets rely on: it must fail on a bad stream."""
    good = [
        {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
                                               "model": MODEL, "content": [], "usage": {}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        {"type": "message_stop"},
    ]

    def body(events: list[dict[str, Any]]) -> bytes:
        return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)

    assert check_stream(body(good)).blocks == [{"type": "text", "text": "hi"}]
    for broken in (good[:3] + good[4:], good[:-1], good[:1] + good[2:], [good[1], *good]):
        try:
            check_stream(body(broken))
        except AssertionError:
            continue
        raise AssertionError(f"accepted: {[e['type'] for e in broken]}")


# What these targets found and is not fixed yet (strict: they fail once it is, so the
# marker and the matching switch in tests/fuzz/wellformed.py are removed then).


def stream_of(*deltas: dict[str, Any]) -> bytes:
    chunks_ = [{"choices": [{"index": 0, "delta": delta}]} for delta in deltas]
    chunks_.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks_) + b"data: [DONE]\n\n"


def call(id_: str | None, name: str | None, arguments: str, index: int | None = None) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    return {"tool_calls": [{"index": index, "id": id_, "type": "function", "function": function}]}


def test_a_tool_call_id_the_upstream_repeats_is_made_unique() -> None:
    body = stream_of(call("call_1", "Bash", "{}", 0), call("call_1", "Read", "{}", 1))
    sent, error = run(client_sees(translate_stream(PROVIDER.chunks(Body([body])), translator(False))))  # type: ignore[arg-type]
    assert error is None
    ids = [b["id"] for b in check_stream(sent).blocks if b["type"] == "tool_use"]
    assert len(ids) == 2 and len(set(ids)) == 2, ids


def test_arguments_of_unicode_spaces_are_an_empty_object_as_in_a_json_answer() -> None:
    """U+2028 is a space to ``str.strip`` but not to JSON: nothing of it goes out while it
    streams (it is not JSON), and at the end the call's input is ``{}``, as
    ``parse_arguments`` makes it of the same text in a JSON answer."""
    body = stream_of(call("call_1", "Bash", "\u2028", 0))
    sent, error = run(client_sees(translate_stream(PROVIDER.chunks(Body([body])), translator(False))))  # type: ignore[arg-type]
    assert error is None
    parts = [
        json.loads(line[6:])["delta"]["partial_json"]
        for line in sent.decode().split("\n")  # SSE lines end at LF; U+2028 is not one
        if line.startswith("data: ") and "input_json_delta" in line
    ]
    assert "".join(parts) == "{}"
    assert b"event: error" not in sent
