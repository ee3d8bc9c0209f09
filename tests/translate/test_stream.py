"""StreamTranslator and translate_stream: Chat Completions chunks as Messages API events."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.errors import UpstreamError
from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece
from lynkr_core.translate.response import from_openai
from lynkr_core.translate.stream import StreamTranslator, translate_stream
from lynkr_core.wire import anthropic, events, openai
from lynkr_core.wire.sse import SSEParser

MODEL = "claude-opus-4-8"
WRITE_ARGS = {"file_path": "/WORKDIR/hello.txt", "content": "hi from lynkr"}
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZAaBcD"


# --------------------------------------------------------------------------- #
# Helpers


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    no_choices: bool = False,
    **choice: Any,
) -> openai.ChatCompletionChunk:
    """A chunk decoded from JSON, as a provider's ``data:`` line would be."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-4o",
        "choices": []
        if no_choices
        else [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason, **choice}],
    }
    if usage is not None:
        body["usage"] = usage
    return openai.decode_chunk(json.dumps(body))


def text_chunk(text: str) -> openai.ChatCompletionChunk:
    return chunk({"content": text})


def usage_chunk(prompt: int, completion: int, cached: int = 0) -> openai.ChatCompletionChunk:
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    return chunk(no_choices=True, usage=usage)


def fragment(
    index: int, arguments: str, *, call_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    out: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        out["id"] = call_id
        out["type"] = "function"
    if name is not None:
        function["name"] = name
    return out


def tool_chunk(*fragments: dict[str, Any]) -> openai.ChatCompletionChunk:
    return chunk({"tool_calls": list(fragments)})


def run(
    chunks: Iterable[openai.ChatCompletionChunk], translator: StreamTranslator | None = None
) -> list[events.StreamEvent]:
    translator = translator or StreamTranslator(model=MODEL, message_id="msg_1")
    out = translator.start()
    for c in chunks:
        out += translator.feed(c)
    return out + translator.finish()


def plain(evs: Iterable[events.StreamEvent]) -> list[dict[str, Any]]:
    return [events.to_builtins(e) for e in evs]


def accumulate(evs: Iterable[events.StreamEvent]) -> anthropic.MessageResponse:
    acc = MessageAccumulator()
    for e in evs:
        acc.add(e)
    message = acc.message()
    assert message is not None
    assert acc.malformed_inputs == []
    return message


def blocks(message: anthropic.MessageResponse) -> list[dict[str, Any]]:
    return [msgspec.json.decode(raw) for raw in message.content]


def assert_well_formed(evs: list[events.StreamEvent]) -> None:
    """message_start first; blocks 0..n-1, one open at a time, each started, then
    stopped; deltas only to the open block; message_delta then message_stop last."""
    assert isinstance(evs[0], events.MessageStart)
    assert isinstance(evs[-2], events.MessageDelta)
    assert isinstance(evs[-1], events.MessageStop)
    open_index: int | None = None
    next_index = 0
    for e in evs[1:-2]:
        if isinstance(e, events.ContentBlockStart):
            assert open_index is None, "a block started while another is open"
            assert e.index == next_index
            open_index = e.index
            next_index += 1
        elif isinstance(e, events.ContentBlockDelta):
            assert e.index == open_index
        elif isinstance(e, events.ContentBlockStop):
            assert e.index == open_index
            open_index = None
        else:
            raise AssertionError(f"unexpected event in the middle: {e}")
    assert open_index is None


def start_event(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta_event(index: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": kind, **fields}}


def stop_event(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


class LineCalls:
    """A fake text tool-call extractor: a line ``CALL name {json}`` is a tool call."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[Piece]:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        return [self._piece(line + "\n") for line in lines]

    def finish(self) -> list[Piece]:
        rest, self._buffer = self._buffer, ""
        return [self._piece(rest)] if rest else []

    @staticmethod
    def _piece(line: str) -> Piece:
        match = re.fullmatch(r"CALL (\w+) (\{.*\})\n?", line)
        if match:
            return ToolCallPiece(match[1], json.loads(match[2]))
        return TextPiece(line)


# --------------------------------------------------------------------------- #
# Text and thinking


def test_text_only() -> None:
    evs = run(
        [
            chunk({"role": "assistant", "content": ""}),
            text_chunk("Hel"),
            text_chunk("lo"),
            chunk({}, finish_reason="stop"),
            usage_chunk(20, 2),
        ]
    )
    assert plain(evs) == [
        {
            "type": "message_start",
            "message": {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "model": MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            },
        },
        start_event(0, {"type": "text", "text": ""}),
        delta_event(0, "text_delta", text="Hel"),
        delta_event(0, "text_delta", text="lo"),
        stop_event(0),
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 2, "input_tokens": 20},
        },
        {"type": "message_stop"},
    ]


def test_message_start_carries_the_estimate_and_a_fresh_id() -> None:
    translator = StreamTranslator(model="my-databricks-model", input_tokens=1234)
    (start,) = translator.start()
    assert isinstance(start, events.MessageStart)
    assert start.message.model == "my-databricks-model"
    assert start.message.usage.input_tokens == 1234
    assert re.fullmatch(r"msg_[0-9a-f]{24}", start.message.id)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_then_text(field: str) -> None:
    evs = run(
        [
            chunk({"role": "assistant", field: "Let me"}),
            chunk({field: " think."}),
            chunk({"content": "Answer"}),
            chunk({"content": ": 4"}, finish_reason="stop"),
        ]
    )
    assert plain(evs[1:-2]) == [
        start_event(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta_event(0, "thinking_delta", thinking="Let me"),
        delta_event(0, "thinking_delta", thinking=" think."),
        stop_event(0),
        start_event(1, {"type": "text", "text": ""}),
        delta_event(1, "text_delta", text="Answer"),
        delta_event(1, "text_delta", text=": 4"),
        stop_event(1),
    ]
    assert blocks(accumulate(evs)) == [
        {"type": "thinking", "thinking": "Let me think.", "signature": ""},
        {"type": "text", "text": "Answer: 4"},
    ]


def test_databricks_reasoning_parts_with_signature() -> None:
    def summary(text: str, signature: str | None = None) -> openai.ChatCompletionChunk:
        item = {"type": "summary_text", "text": text, "signature": signature}
        return chunk({"content": [{"type": "reasoning", "summary": [item]}]})

    evs = run(
        [
            summary("First"),
            summary(" thought."),
            summary("", SIGNATURE),
            summary("Second thought.", "sig2"),
            chunk({"content": [{"type": "text", "text": "Done."}]}, finish_reason="stop"),
        ]
    )
    assert_well_formed(evs)
    assert plain(evs[1:-2]) == [
        start_event(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta_event(0, "thinking_delta", thinking="First"),
        delta_event(0, "thinking_delta", thinking=" thought."),
        delta_event(0, "signature_delta", signature=SIGNATURE),
        stop_event(0),
        start_event(1, {"type": "thinking", "thinking": "", "signature": ""}),
        delta_event(1, "thinking_delta", thinking="Second thought."),
        delta_event(1, "signature_delta", signature="sig2"),
        stop_event(1),
        start_event(2, {"type": "text", "text": ""}),
        delta_event(2, "text_delta", text="Done."),
        stop_event(2),
    ]


def test_empty_and_role_only_deltas_produce_nothing() -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    quiet = [
        chunk({"role": "assistant"}),
        chunk({"role": "assistant", "content": ""}),
        chunk({}),
        chunk({"content": None, "reasoning_content": "", "reasoning": None}),
        chunk({"tool_calls": []}),
        chunk({"content": []}),
        chunk(no_choices=True),
        chunk({"content": "not choice 0"}, index=1),
    ]
    for c in quiet:
        assert translator.feed(c) == []
    assert not translator.finished


def test_refusal_is_text_with_stop_reason_refusal() -> None:
    evs = run([chunk({"refusal": "I can't"}), chunk({"refusal": " help."}, finish_reason="stop")])
    message = accumulate(evs)
    assert blocks(message) == [{"type": "text", "text": "I can't help."}]
    assert message.stop_reason == "refusal"


# --------------------------------------------------------------------------- #
# Tool calls


def test_one_tool_call_in_one_char_fragments() -> None:
    arguments = json.dumps(WRITE_ARGS)
    chunks = [tool_chunk(fragment(0, "", call_id="call_1", name="Write"))]
    chunks += [tool_chunk(fragment(0, char)) for char in arguments]
    chunks.append(chunk({}, finish_reason="tool_calls"))
    evs = run(chunks)
    assert_well_formed(evs)
    assert plain(evs[1:2]) == [
        start_event(0, {"type": "tool_use", "id": "call_1", "name": "Write", "input": {}})
    ]
    deltas = [e.delta.partial_json for e in evs if isinstance(e, events.ContentBlockDelta)]  # type: ignore[union-attr]
    assert "".join(deltas) == arguments
    assert len(deltas) > len(arguments) // 2  # live: the content goes out as it comes
    message = accumulate(evs)
    assert blocks(message) == [
        {"type": "tool_use", "id": "call_1", "name": "Write", "input": WRITE_ARGS}
    ]
    assert message.stop_reason == "tool_use"


def test_two_parallel_calls_interleaved() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, '{"comm', call_id="call_a", name="Bash")),
            tool_chunk(fragment(1, '{"file_', call_id="call_b", name="Read")),
            tool_chunk(fragment(0, 'and": "ls"')),
            tool_chunk(fragment(1, 'path": "/a"}')),
            tool_chunk(fragment(0, "}")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert_well_formed(evs)
    assert plain(evs[1:-2]) == [
        start_event(0, {"type": "tool_use", "id": "call_a", "name": "Bash", "input": {}}),
        delta_event(0, "input_json_delta", partial_json="{"),  # a key waits for its value
        delta_event(0, "input_json_delta", partial_json='"command": "ls"'),
        delta_event(0, "input_json_delta", partial_json="}"),
        stop_event(0),
        start_event(1, {"type": "tool_use", "id": "call_b", "name": "Read", "input": {}}),
        delta_event(1, "input_json_delta", partial_json='{"file_path":"/a"}'),
        stop_event(1),
    ]
    assert [b["input"] for b in blocks(accumulate(evs))] == [{"command": "ls"}, {"file_path": "/a"}]


def test_buffered_calls_are_sent_in_index_order() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, "{}", call_id="c0", name="TaskList")),
            tool_chunk(fragment(2, '{"x": 2}', call_id="c2", name="Two")),
            tool_chunk(fragment(1, '{"x": 1}', call_id="c1", name="One")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert_well_formed(evs)
    assert [b["id"] for b in blocks(accumulate(evs))] == ["c0", "c1", "c2"]


def test_whole_calls_in_one_chunk() -> None:
    # Ollama and some vLLM parsers send each call complete, several in one delta
    evs = run(
        [
            tool_chunk(
                fragment(0, '{"command": "ls"}', call_id="c0", name="Bash"),
                fragment(1, '{"file_path": "/a"}', call_id="c1", name="Read"),
            ),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert_well_formed(evs)
    assert [(b["name"], b["input"]) for b in blocks(accumulate(evs))] == [
        ("Bash", {"command": "ls"}),
        ("Read", {"file_path": "/a"}),
    ]


def test_text_then_tool_call() -> None:
    evs = run(
        [
            text_chunk("I'll write it."),
            tool_chunk(
                fragment(0, '{"file_path": "/WORKDIR/hello.txt", ', call_id="c1", name="Write")
            ),
            tool_chunk(fragment(0, '"content": "hi from lynkr"}')),
            chunk({}, finish_reason="tool_calls"),
            usage_chunk(100, 30),
        ]
    )
    assert_well_formed(evs)
    assert plain(evs[1:6]) == [
        start_event(0, {"type": "text", "text": ""}),
        delta_event(0, "text_delta", text="I'll write it."),
        stop_event(0),
        start_event(1, {"type": "tool_use", "id": "c1", "name": "Write", "input": {}}),
        # the comma waits for what follows it: a trailing comma is never sent
        delta_event(1, "input_json_delta", partial_json='{"file_path": "/WORKDIR/hello.txt"'),
    ]
    message = accumulate(evs)
    assert blocks(message)[1]["input"] == WRITE_ARGS
    assert message.stop_reason == "tool_use"


def test_tool_call_with_finish_stop_is_tool_use() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, '{"a": 1}', call_id="c", name="T")),
            chunk({}, finish_reason="stop"),
        ]
    )
    assert accumulate(evs).stop_reason == "tool_use"


def test_empty_arguments_give_an_empty_object() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, "", call_id="c0", name="TaskList")),
            tool_chunk(fragment(1, "", call_id="c1", name="CronList")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    partials = [e.delta.partial_json for e in evs if isinstance(e, events.ContentBlockDelta)]  # type: ignore[union-attr]
    assert partials == ["{}", "{}"]
    assert [b["input"] for b in blocks(accumulate(evs))] == [{}, {}]


def test_tool_call_without_id_gets_one() -> None:
    evs = run(
        [tool_chunk(fragment(0, "{}", name="TaskList")), chunk({}, finish_reason="tool_calls")]
    )
    (block,) = blocks(accumulate(evs))
    assert re.fullmatch(r"toolu_[0-9a-f]+", block["id"])


def test_buffered_call_arguments_are_repaired() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, "{}", call_id="c0", name="TaskList")),
            tool_chunk(fragment(1, "{'command': 'ls', ", call_id="c1", name="Bash")),
            tool_chunk(fragment(1, "'run_in_background': False,}")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    partials = [e.delta.partial_json for e in evs if isinstance(e, events.ContentBlockDelta)]  # type: ignore[union-attr]
    assert partials[-1] == '{"command":"ls","run_in_background":false}'


@pytest.mark.parametrize("arguments", ['{"file_path": "/a", "content": "tru', '["a"]'])
def test_live_call_with_malformed_arguments_raises_at_close(arguments: str) -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    translator.feed(tool_chunk(fragment(0, arguments, call_id="c1", name="Write")))
    translator.feed(chunk({}, finish_reason="tool_calls"))
    with pytest.raises(UpstreamError) as info:
        translator.finish()
    assert info.value.status == 502
    assert "malformed arguments for tool Write" in info.value.message


def test_buffered_call_with_malformed_arguments_raises() -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    translator.feed(tool_chunk(fragment(0, "{}", call_id="c0", name="TaskList")))
    translator.feed(tool_chunk(fragment(1, '{"command": "l', call_id="c1", name="Bash")))
    translator.feed(chunk({}, finish_reason="tool_calls"))
    with pytest.raises(UpstreamError, match="malformed arguments for tool Bash"):
        translator.finish()


def test_text_after_a_tool_call_closes_it() -> None:
    evs = run(
        [
            tool_chunk(fragment(0, '{"command": "ls"}', call_id="c0", name="Bash")),
            text_chunk("\n"),
            tool_chunk(fragment(1, '{"file_path": "/a"}', call_id="c1", name="Read")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert_well_formed(evs)
    assert [b["type"] for b in blocks(accumulate(evs))] == ["tool_use", "text", "tool_use"]


def test_arguments_for_a_closed_call_raise() -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    translator.feed(tool_chunk(fragment(0, '{"command": "ls"}', call_id="c0", name="Bash")))
    translator.feed(text_chunk("text"))
    with pytest.raises(UpstreamError, match="after its block was closed"):
        translator.feed(tool_chunk(fragment(0, "}")))


def test_same_index_with_a_new_id_is_a_new_call() -> None:
    # Gemini's OpenAI endpoint gives parallel calls the same index
    evs = run(
        [
            tool_chunk(fragment(0, '{"command": "ls"}', call_id="c0", name="Bash")),
            tool_chunk(fragment(0, '{"file_path": "/a"}', call_id="c1", name="Read")),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert [(b["id"], b["input"]) for b in blocks(accumulate(evs))] == [
        ("c0", {"command": "ls"}),
        ("c1", {"file_path": "/a"}),
    ]


def test_text_tool_calls() -> None:
    translator = StreamTranslator(model=MODEL, tool_text=LineCalls)
    evs = run(
        [
            text_chunk('Let me look.\nCALL Read {"file_'),
            text_chunk('path": "/a"}\nMore'),
            text_chunk(" text"),
            chunk({}, finish_reason="stop"),
        ],
        translator,
    )
    assert_well_formed(evs)
    message = accumulate(evs)
    got = blocks(message)
    assert [b["type"] for b in got] == ["text", "tool_use", "text"]
    assert got[0]["text"] == "Let me look.\n"
    assert (got[1]["name"], got[1]["input"]) == ("Read", {"file_path": "/a"})
    assert got[2]["text"] == "More text"
    assert message.stop_reason == "tool_use"


# --------------------------------------------------------------------------- #
# Stop reason, usage, errors


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal")],
)
def test_finish_reasons(finish_reason: str, stop_reason: str) -> None:
    translator = StreamTranslator(model=MODEL)
    evs = run([text_chunk("x"), chunk({}, finish_reason=finish_reason)], translator)
    assert translator.finished
    assert accumulate(evs).stop_reason == stop_reason


def test_matched_stop_sequence() -> None:
    translator = StreamTranslator(model=MODEL, stop_sequences=["END"])
    evs = run([text_chunk("1, 2"), chunk({}, finish_reason="stop", stop_reason="END")], translator)
    message = accumulate(evs)
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "END")


def test_message_delta_waits_for_the_usage_only_chunk() -> None:
    translator = StreamTranslator(model=MODEL, input_tokens=999)
    translator.start()
    translator.feed(text_chunk("Hi"))
    assert translator.feed(chunk({}, finish_reason="stop")) == [], "no message_delta yet"
    assert translator.finished
    assert translator.feed(usage_chunk(2006, 12, cached=1920)) == []
    evs = translator.finish()
    assert plain(evs[-2:]) == [
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 12, "input_tokens": 86, "cache_read_input_tokens": 1920},
        },
        {"type": "message_stop"},
    ]
    assert translator.finish() == []


def test_the_last_usage_wins() -> None:
    # vLLM with continuous usage stats puts cumulative usage in every chunk
    evs = run(
        [
            chunk({"content": "a"}, usage={"prompt_tokens": 50, "completion_tokens": 1}),
            chunk({"content": "b"}, usage={"prompt_tokens": 50, "completion_tokens": 2}),
            chunk({}, finish_reason="stop", usage={"prompt_tokens": 50, "completion_tokens": 3}),
        ]
    )
    usage = accumulate(evs).usage
    assert (usage.input_tokens, usage.output_tokens) == (50, 3)


def test_no_usage_keeps_the_estimate() -> None:
    evs = run(
        [text_chunk("Hi"), chunk({}, finish_reason="stop")],
        StreamTranslator(model=MODEL, input_tokens=321),
    )
    usage = accumulate(evs).usage
    assert (usage.input_tokens, usage.output_tokens) == (321, 0)


@pytest.mark.parametrize(("code", "status"), [(429, 429), (502, 502), ("x", 502), (None, 502)])
def test_error_chunk(code: Any, status: int) -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    translator.feed(text_chunk("partial"))
    bad = openai.decode_chunk(
        json.dumps(
            {
                "error": {"code": code, "message": "Provider disconnected"},
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
        )
    )
    with pytest.raises(UpstreamError) as info:
        translator.feed(bad)
    assert (info.value.status, info.value.message) == (status, "Provider disconnected")


def test_finish_reason_error_without_an_error_object() -> None:
    translator = StreamTranslator(model=MODEL)
    translator.start()
    with pytest.raises(UpstreamError):
        translator.feed(chunk({}, finish_reason="error"))


# --------------------------------------------------------------------------- #
# translate_stream


async def source(
    chunks: list[openai.ChatCompletionChunk], delay: float = 0.0
) -> AsyncIterator[openai.ChatCompletionChunk]:
    for c in chunks:
        if delay:
            await asyncio.sleep(delay)
        yield c


async def collect(frames: AsyncIterator[bytes]) -> list[tuple[str, dict[str, Any]]]:
    parser = SSEParser()
    out = []
    async for frame in frames:
        for sse in parser.feed(frame):
            out.append((sse.event, json.loads(sse.data)))
    return out


def frames_to_events(frames: list[tuple[str, dict[str, Any]]]) -> list[events.StreamEvent]:
    return [events.decode_event(json.dumps(data)) for _, data in frames]


async def test_translate_stream_frames() -> None:
    chunks = [text_chunk("Hello"), chunk({}, finish_reason="stop"), usage_chunk(10, 1)]
    frames = await collect(
        translate_stream(source(chunks), StreamTranslator(model=MODEL, message_id="msg_1"))
    )
    assert [name for name, _ in frames] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in frames)
    assert blocks(accumulate(frames_to_events(frames))) == [{"type": "text", "text": "Hello"}]


async def test_translate_stream_without_finish_reason_raises() -> None:
    frames: list[bytes] = []
    stream = translate_stream(
        source([text_chunk("Hel"), text_chunk("lo")]), StreamTranslator(model=MODEL)
    )
    with pytest.raises(UpstreamError) as info:
        async for frame in stream:
            frames.append(frame)
    assert (info.value.status, info.value.message) == (
        502,
        "upstream stream ended before finish_reason",
    )
    assert info.value.retryable
    names = [f.split(b"\n", 1)[0] for f in frames]
    assert names[0] == b"event: message_start"
    assert b"event: message_delta" not in names and b"event: message_stop" not in names


async def test_translate_stream_passes_upstream_errors_on() -> None:
    bad = openai.decode_chunk(b'{"error": {"code": 429, "message": "Rate limited"}}')
    with pytest.raises(UpstreamError) as info:
        await collect(
            translate_stream(source([text_chunk("a"), bad]), StreamTranslator(model=MODEL))
        )
    assert info.value.status == 429


async def test_a_ping_for_each_silence_the_reader_marks() -> None:
    chunks = [
        text_chunk("slow "),
        text_chunk("answer"),
        chunk({}, finish_reason="stop"),
        usage_chunk(5, 2),
    ]
    idle_between = [item for c in chunks for item in (None, c)]  # the reader marks silences
    frames = await collect(translate_stream(source(idle_between), StreamTranslator(model=MODEL)))
    assert frames.count(("ping", {"type": "ping"})) == len(chunks)
    message_events = [e for e in frames_to_events(frames) if not isinstance(e, events.Ping)]
    assert_well_formed(message_events)
    message = accumulate(message_events)
    assert blocks(message) == [{"type": "text", "text": "slow answer"}]
    assert (message.stop_reason, message.usage.output_tokens) == ("end_turn", 2)


async def test_no_pings_without_silences() -> None:
    chunks = [text_chunk("x"), chunk({}, finish_reason="stop")]
    frames = await collect(
        translate_stream(source(chunks), StreamTranslator(model=MODEL))
    )
    assert all(name != "ping" for name, _ in frames)


async def test_closing_the_stream_closes_the_upstream() -> None:
    state = {"cancelled": False, "closed": False}

    async def stuck() -> AsyncIterator[openai.ChatCompletionChunk | None]:
        try:
            yield text_chunk("first")
            yield None
            await asyncio.sleep(3600)
            yield text_chunk("never")
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        finally:
            state["closed"] = True

    stream = translate_stream(stuck(), StreamTranslator(model=MODEL))
    seen = []
    async for frame in stream:
        seen.append(frame)
        if frame.startswith(b"event: ping"):
            break
    await stream.aclose()
    assert state == {"cancelled": False, "closed": True}  # closed at its yield, nothing pending
    assert any(b"first" in f for f in seen)


async def test_cancelling_the_consumer_closes_the_upstream() -> None:
    closed = asyncio.Event()

    async def stuck() -> AsyncIterator[openai.ChatCompletionChunk]:
        try:
            yield text_chunk("first")
            await asyncio.sleep(3600)
        finally:
            closed.set()

    async def consume() -> None:
        async for _ in translate_stream(stuck(), StreamTranslator(model=MODEL)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed.is_set()


async def test_upstream_without_aclose() -> None:
    class Chunks:
        def __init__(self, items: list[openai.ChatCompletionChunk]) -> None:
            self._items = iter(items)

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> openai.ChatCompletionChunk:
            try:
                return next(self._items)
            except StopIteration:
                raise StopAsyncIteration from None

    frames = await collect(
        translate_stream(
            Chunks([text_chunk("ok"), chunk({}, finish_reason="stop")]),
            StreamTranslator(model=MODEL),
        )
    )
    assert frames[-1] == ("message_stop", {"type": "message_stop"})


# --------------------------------------------------------------------------- #
# Property: a streamed answer adds up to the same message as the complete one

TOOL_NAMES = ["Bash", "Read", "Write", "Edit", "TaskList", "WebFetch"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@st.composite
def split(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at random points (empty fragments included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def logical_responses(
    draw: st.DrawFn,
) -> tuple[openai.ChatCompletion, list[openai.ChatCompletionChunk]]:
    reasoning = draw(st.none() | st.text(min_size=1, max_size=40))
    reasoning_field = draw(st.sampled_from(["reasoning_content", "reasoning"]))
    text = draw(st.none() | st.text(min_size=1, max_size=40))
    calls = []
    for i in range(draw(st.integers(0, 3))):
        arguments = draw(json_objects)
        encoded = json.dumps(arguments, indent=draw(st.none() | st.integers(0, 2)))
        if not arguments and draw(st.booleans()):
            encoded = ""
        calls.append((f"call_{i}", draw(st.sampled_from(TOOL_NAMES)), encoded))
    finish_reason = draw(
        st.sampled_from(["stop", "length", "tool_calls", "content_filter", "eos", None])
    )
    prompt = draw(st.integers(0, 200_000))
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": draw(st.integers(0, 64_000)),
        "prompt_tokens_details": {"cached_tokens": draw(st.integers(0, prompt))},
    }

    message: dict[str, Any] = {"role": "assistant", "content": text}
    if reasoning is not None:
        message[reasoning_field] = reasoning
    if calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in calls
        ]
    completion = openai.decode_completion(
        json.dumps(
            {
                "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
                "usage": usage,
            }
        )
    )

    deltas: list[dict[str, Any]] = [{"role": "assistant"}]
    deltas += [{reasoning_field: part} for part in draw(split(reasoning or ""))]
    deltas += [{"content": part} for part in draw(split(text or ""))]
    # each call's fragments in order, calls interleaved; a call's first fragment
    # (with id and name) comes after the first fragment of every lower index
    queues = [
        [{"index": i, "function": {"arguments": part}} for part in draw(split(args))]
        for i, (_, _, args) in enumerate(calls)
    ]
    for queue, (cid, name, _) in zip(queues, calls, strict=True):
        queue[0] = {**queue[0], "id": cid, "type": "function"}
        queue[0]["function"] = {**queue[0]["function"], "name": name}
    started = 0
    while any(queues):
        ready = [i for i, q in enumerate(queues) if q and i <= started]
        i = draw(st.sampled_from(ready))
        started = max(started, i + 1)
        deltas.append({"tool_calls": [queues[i].pop(0)]})
    finish_alone = draw(st.booleans())
    if finish_alone or len(deltas) == 1:
        deltas.append({})
    chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks[-1]["choices"][0]["finish_reason"] = finish_reason
    chunks.append({"choices": [], "usage": usage})
    return completion, [openai.decode_chunk(json.dumps(c)) for c in chunks]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logical_responses())
def test_stream_adds_up_to_the_complete_answer(
    case: tuple[openai.ChatCompletion, list[openai.ChatCompletionChunk]],
) -> None:
    completion, chunks = case
    expected = from_openai(completion, model=MODEL, message_id="msg_same")
    translator = StreamTranslator(model=MODEL, message_id="msg_same", input_tokens=7)
    evs = run(chunks, translator)
    assert translator.finished == (completion.choices[0].finish_reason is not None)
    assert_well_formed(evs)
    streamed = accumulate(evs)
    assert blocks(streamed) == blocks(expected)
    assert (streamed.stop_reason, streamed.stop_sequence) == (
        expected.stop_reason,
        expected.stop_sequence,
    )
    assert streamed.usage == expected.usage
    assert (streamed.id, streamed.model) == (expected.id, expected.model)


async def test_an_error_before_any_content_fails_before_the_first_byte():
    """Nothing has reached the client yet, so the pipeline may still retry or fail over."""

    async def source():
        yield openai.ChatCompletionChunk(
            choices=[openai.ChunkChoice(delta=openai.MessageOut(role="assistant", content=""))]
        )
        yield openai.ChatCompletionChunk(
            error=openai.ErrorOut(message="provider overloaded", code=503),
            choices=[openai.ChunkChoice(finish_reason="error")],
        )

    frames = translate_stream(source(), StreamTranslator(model="m"))
    with pytest.raises(UpstreamError, match="provider overloaded") as caught:
        await anext(frames)
    assert caught.value.status == 503


async def test_message_start_goes_out_with_the_first_ping_of_a_slow_upstream():
    async def source():
        yield None  # the reader saw a silence before the first chunk
        yield text_chunk("late")
        yield chunk(finish_reason="stop")

    raw = b"".join([f async for f in translate_stream(source(), StreamTranslator(model="m"))])
    names = [line for line in raw.split(b"\n") if line.startswith(b"event: ")]
    assert names[:2] == [b"event: message_start", b"event: ping"]
    assert names[-1] == b"event: message_stop"


async def test_the_chunks_of_one_read_go_out_as_one_write() -> None:
    batch = [text_chunk("a"), text_chunk("b"), chunk({}, finish_reason="stop")]
    writes = [f async for f in translate_stream(source([batch]), StreamTranslator(model=MODEL))]
    assert len(writes) == 2  # everything the read produced, then the closing events
    assert writes[0].count(b"event: ") == 4  # message_start, block start, two deltas
    message = accumulate(frames_to_events(await collect(source_of(writes))))
    assert blocks(message) == [{"type": "text", "text": "ab"}]


async def source_of(frames: list[bytes]) -> AsyncIterator[bytes]:
    for frame in frames:
        yield frame
