"""Streamed tool calls are repaired as the JSON answers are, and a call cut by
``finish_reason: length`` ends as Anthropic ends one cut by ``max_tokens``.

Claude Code streams: a model that wraps its arguments in a code fence, leaves a
trailing comma, quotes with single quotes or encodes the object twice must give the
same ``tool_use`` input there as in a JSON answer, with no ``error`` event.
"""

from __future__ import annotations

import json
import random

import pytest

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import Harness
from lynkr_core.translate import parse_arguments
from lynkr_core.translate.streamed_arguments import StreamedArguments

KEY = "sk-upstream"
HARNESS = Harness(
    lambda base, **extra: {
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
        "OPENAI_API_KEY": KEY,
        "OPENAI_MODEL": "local-model",
        "LYNKR_UPSTREAM_RETRIES": "0",
        **extra,
    }
)
WRITE = {"file_path": "/w/hello.py", "content": 'print("hi")\n# done, really\n'}
TOOLS = [{"name": "Write", "description": "write a file", "input_schema": {"type": "object"}}]
ASK = [{"role": "user", "content": "write hello.py"}]

#: Argument texts models send, each meaning ``WRITE`` (the JSON path repairs them all).
BROKEN = {
    "code fence": "```json\n" + json.dumps(WRITE) + "\n```",
    "trailing comma": json.dumps(WRITE)[:-1] + ",}",
    "double encoded": json.dumps(json.dumps(WRITE)),
    "single quotes": repr(WRITE),
    "python literal after a json member": '{"file_path": "/w/hello.py", \'content\': ' + repr(WRITE["content"]) + "}",
    "trailing comma in a nested list": '{"file_path": "/w/hello.py", "content": ' + json.dumps(WRITE["content"]) + ', "x": [1, 2,],}',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("stream", [True, False])
async def test_the_streamed_path_repairs_what_the_json_path_repairs(name, stream):
    arguments = BROKEN[name]
    expected = parse_arguments(arguments)
    reply = ChatReply("Writing.", chunk_size=3, tool_calls=[ToolCallSpec("Write", arguments)], arguments_chunk_size=3)
    async with HARNESS.run(FakeOpenAI([reply], api_key=KEY)) as gw:
        request = {"model": "claude-sonnet-4-6", "max_tokens": 1000, "messages": ASK, "tools": TOOLS}
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    (call,) = [block for block in message.content if block.type == "tool_use"]
    assert call.input == expected
    assert message.stop_reason == "tool_use"


async def test_a_streamed_call_cut_by_length_ends_with_max_tokens_and_a_closed_block():
    cut = '{"file_path": "/w/hello.py", "content": "print(\\"h'
    reply = ChatReply(tool_calls=[ToolCallSpec("Write", cut)], arguments_chunk_size=4, finish_reason="length")
    async with HARNESS.run(FakeOpenAI([reply], api_key=KEY)) as gw:
        status, events = await gw.post_sse(
            {"model": "claude-sonnet-4-6", "max_tokens": 30, "stream": True, "messages": ASK, "tools": TOOLS}
        )
    assert status == 200
    names = [name for name, _ in events]
    assert "error" not in names
    assert names[-4:] == ["content_block_delta", "content_block_stop", "message_delta", "message_stop"] or names[
        -3:
    ] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"
    sent = "".join(data["delta"]["partial_json"] for name, data in events if name == "content_block_delta")
    assert sent == cut  # all it had, as Anthropic streams a call cut by max_tokens


async def test_the_sdk_reads_a_call_cut_by_length():
    cut = '{"file_path": "/w/hello.py", "content": "print'
    reply = ChatReply(tool_calls=[ToolCallSpec("Write", cut)], arguments_chunk_size=5, finish_reason="length")
    async with HARNESS.run(FakeOpenAI([reply], api_key=KEY)) as gw:
        async with gw.sdk.messages.stream(
            model="claude-sonnet-4-6", max_tokens=30, messages=ASK, tools=TOOLS
        ) as events:
            message = await events.get_final_message()
    assert message.stop_reason == "max_tokens"
    assert message.content[-1].type == "tool_use"
    assert message.content[-1].input["file_path"] == "/w/hello.py"


async def test_a_json_answer_cut_by_length_in_a_tool_call_is_max_tokens():
    cut = '{"file_path": "/w/hello.py", "content": "print'
    reply = ChatReply("Writing.", tool_calls=[ToolCallSpec("Write", cut)], finish_reason="length")
    async with HARNESS.run(FakeOpenAI([reply], api_key=KEY)) as gw:
        message = await gw.sdk.messages.create(model="claude-sonnet-4-6", max_tokens=30, messages=ASK, tools=TOOLS)
    assert message.stop_reason == "max_tokens"
    assert [block.type for block in message.content] == ["text"]


# --------------------------------------------------------------------------- #
# StreamedArguments: whatever the chunking, the sent text is the repaired object


def _streamed(text: str, sizes: list[int]) -> str:
    arguments, out, position = StreamedArguments(), [], 0
    for size in sizes:
        arguments.feed(text[position:position + size])
        out.append(arguments.take())
        position += size
    arguments.feed(text[position:])
    out.append(arguments.finish())
    return "".join(out)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_any_chunking_gives_the_repaired_object(name):
    rng = random.Random(name)
    text = BROKEN[name]
    for _ in range(30):
        sizes = [rng.randint(1, 9) for _ in range(len(text))]
        assert json.loads(_streamed(text, sizes)) == parse_arguments(text)


def test_valid_arguments_stream_live_and_unchanged():
    text = json.dumps({"file_path": "/a", "content": "x" * 200, "n": [1, {"b": None}], "é": "\u00e9\\"})
    arguments, pieces = StreamedArguments(), []
    for char in text:
        arguments.feed(char)
        pieces.append(arguments.take())
    pieces.append(arguments.finish())
    assert "".join(pieces) == text
    assert sum(1 for piece in pieces if piece) > 200  # the content went out as it came


def test_nothing_that_a_repair_would_change_is_sent_early():
    arguments = StreamedArguments()
    arguments.feed('{"a": 1,')
    assert arguments.take() == '{"a": 1'  # the comma waits
    arguments.feed(" 'b': True}")
    assert arguments.take() == ""
    assert arguments.finish() == ',"b":true}'
