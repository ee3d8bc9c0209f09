"""Fuzz target: what OpenAI-format clients send, and the core's answers translated back.

Any body a client posts to ``/v1/chat/completions`` or ``/v1/responses`` is either
translated into a Messages request that every part of lynkr can read (its content
blocks, tools and options decode, it encodes and decodes again as a Messages API
body) or refused with an ``InvalidRequest`` (a 400 naming the place): never a
``KeyError``, ``TypeError``, ``AttributeError`` or ``RecursionError`` that would
become a 500. And any well-formed Anthropic message, streamed to a Chat Completions
or a Responses client, adds up to what the message holds: its text, its reasoning,
its tool calls' arguments, whole, with the right finish reason.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

from lynkr_core.errors import InvalidRequest
from lynkr_core.openai_api import chat_request, responses_request
from lynkr_core.openai_api.chat_stream import DONE_FRAME, ChunkTranslator
from lynkr_core.openai_api.responses_stream import ResponseBuilder
from lynkr_core.streams import message_events
from lynkr_core.wire import anthropic
from tests.fuzz.budget import fuzz_target
from tests.fuzz.strategies import (
    ARGUMENT_FRAGMENTS,
    documents,
    json_objects,
    json_values,
    maybe,
    texts,
)

ROLES = ["system", "developer", "user", "assistant", "tool", "wizard", ""]
IMAGE_URLS = ["data:image/png;base64,iVBORw0KGgo=", "https://example.com/a.png", "file:///etc/passwd",
              "data:,x", ""]
arguments = st.lists(st.sampled_from(ARGUMENT_FRAGMENTS), max_size=4).map("".join) | json_objects.map(json.dumps)

chat_parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}),
    st.fixed_dictionaries({"type": st.just("image_url"),
                           "image_url": st.fixed_dictionaries({"url": st.sampled_from(IMAGE_URLS)})}),
    json_values,
)
chat_calls = st.fixed_dictionaries({"id": st.sampled_from(["call_1", "call_2", ""]), "type": st.just("function"),
                                    "function": st.fixed_dictionaries({"name": texts, "arguments": arguments})})
chat_messages = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES)},
    optional={"content": maybe(texts | st.lists(chat_parts, max_size=3)),
              "tool_calls": st.lists(chat_calls, max_size=2),
              "tool_call_id": st.sampled_from(["call_1", "call_2", ""])},
)
chat_tools = st.fixed_dictionaries({"type": st.sampled_from(["function", "web"]), "function": st.fixed_dictionaries(
    {"name": st.sampled_from(["shell", "read", ""])}, optional={"parameters": json_objects, "description": texts})})
chat_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["gpt-4o", "claude-sonnet-4-5", ""]), "messages": st.lists(chat_messages, max_size=4)},
    optional={
        "stream": st.booleans(), "n": st.integers(0, 3), "max_tokens": st.integers(-1, 100_000),
        "max_completion_tokens": st.integers(0, 100_000), "stop": maybe(texts | st.lists(texts, max_size=5)),
        "tools": st.lists(chat_tools, max_size=2),
        "tool_choice": st.sampled_from(["auto", "none", "required", "other"]) | json_objects,
        "parallel_tool_calls": st.booleans(),
        "response_format": st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "json_object", "json_schema", "yaml"])},
            optional={"json_schema": json_objects}),
        "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high", "max", "none"]),
        "temperature": st.floats(0, 2), "user": texts,
    },
)

response_items = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(ROLES)},
                          optional={"type": st.just("message"),
                                    "content": texts | st.lists(st.one_of(
                                        st.fixed_dictionaries({"type": st.sampled_from(
                                            ["input_text", "output_text", "refusal", "input_file"]), "text": texts}),
                                        st.fixed_dictionaries({"type": st.just("input_image"),
                                                               "image_url": st.sampled_from(IMAGE_URLS)}),
                                        json_values), max_size=3)}),
    st.fixed_dictionaries({"type": st.just("function_call")},
                          optional={"call_id": st.sampled_from(["call_1", ""]), "name": texts, "arguments": arguments}),
    st.fixed_dictionaries({"type": st.just("function_call_output")},
                          optional={"call_id": st.sampled_from(["call_1", "call_9"]), "output": texts | json_values}),
    st.fixed_dictionaries({"type": st.just("reasoning")},
                          optional={"encrypted_content": texts, "summary": st.lists(json_values, max_size=2)}),
    json_values,
)
response_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["gpt-5", ""])},
    optional={
        "input": texts | st.lists(response_items, max_size=4), "instructions": maybe(texts),
        "tools": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["function", "web_search"])},
                                                optional={"name": texts, "parameters": json_objects}), max_size=2),
        "tool_choice": st.sampled_from(["auto", "none", "required"]) | json_objects,
        "max_output_tokens": st.integers(-1, 50_000), "stream": st.booleans(), "store": st.booleans(),
        "reasoning": st.fixed_dictionaries({}, optional={"effort": st.sampled_from(["low", "high", "x"])}),
        "text": st.fixed_dictionaries({}, optional={"format": json_objects}),
    },
)


def check_request(request: anthropic.MessagesRequest) -> None:
    """Every part of the translated request decodes, and it survives a Messages API round trip."""
    assert anthropic.request_problem(request) is None
    again = anthropic.decode_request(anthropic.encode_request(request))
    assert again.messages == request.messages
    assert request.max_tokens is not None and request.max_tokens >= 1
    roles = [message.role for message in request.messages]
    assert all(role in ("user", "assistant") for role in roles)
    assert all(a != b for a, b in itertools.pairwise(roles)), "turns alternate"


@fuzz_target(documents(chat_bodies), examples=200)
def test_any_chat_request_translates_or_is_a_400(body: bytes) -> None:
    try:
        request = chat_request.to_messages_request(chat_request.decode_chat_request(body))
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return
    check_request(request)


@fuzz_target(documents(response_bodies), examples=200)
def test_any_responses_request_translates_or_is_a_400(body: bytes) -> None:
    try:
        request = responses_request.to_messages_request(responses_request.decode_responses_request(body))
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return
    check_request(request)


def test_a_function_tool_without_a_name_is_a_400() -> None:
    """Found by this target: a function tool without a name raised ``KeyError``."""
    body = b'{"model": "gpt-5", "tools": [{"type": "function"}]}'
    try:
        responses_request.to_messages_request(responses_request.decode_responses_request(body))
    except InvalidRequest as exc:
        assert "tools[0].name" in exc.message
    else:
        raise AssertionError("a nameless function tool was accepted")


blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}),
    st.fixed_dictionaries({"type": st.just("thinking"), "thinking": texts, "signature": st.just("sig")}),
    st.fixed_dictionaries({"type": st.just("tool_use"), "id": st.sampled_from(["toolu_1", "toolu_2"]),
                           "name": st.sampled_from(["shell", "read"]), "input": json_objects}),
)
messages_out = st.builds(
    lambda content, stop, chunk: (anthropic.MessageResponse(
        id="msg_1", model="m", content=[anthropic.raw(block) for block in content], stop_reason=stop,
        usage=anthropic.Usage(input_tokens=3, output_tokens=5)), chunk),
    st.lists(blocks, max_size=4),
    st.sampled_from(["end_turn", "tool_use", "max_tokens", "stop_sequence", None]),
    st.integers(1, 7),
)


@fuzz_target(messages_out, examples=200)
def test_any_message_streams_to_both_clients_whole(drawn: tuple[anthropic.MessageResponse, int]) -> None:
    message, chunk_size = drawn
    content: list[dict[str, Any]] = [json.loads(bytes(raw)) for raw in message.content]
    events = message_events(message, chunk_size)

    chunks = ChunkTranslator("m", include_usage=True)
    frames = [frame for event in events for frame in chunks.feed(event)]
    assert frames[-1] == DONE_FRAME
    datas = [json.loads(frame.removeprefix(b"data: ")) for frame in frames[:-1]]
    deltas = [d["choices"][0]["delta"] for d in datas if d["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "".join(
        b["text"] for b in content if b["type"] == "text")
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "".join(
        b["thinking"] for b in content if b["type"] == "thinking")
    calls: dict[int, str] = {}
    for delta in deltas:
        for call in delta.get("tool_calls") or ():
            calls[call["index"]] = calls.get(call["index"], "") + call["function"]["arguments"]
    tools = [b for b in content if b["type"] == "tool_use"]
    assert [json.loads(calls[i]) for i in range(len(tools))] == [b["input"] for b in tools]
    assert datas[-1]["usage"]["total_tokens"] == 8

    builder = ResponseBuilder("resp_1", "m", {})
    out = [e for event in events for e in builder.feed(event)]
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    final = out[-1]["response"]
    assert out[-1]["type"] in ("response.completed", "response.incomplete")
    assert [item["type"] for item in final["output"]] == [
        {"text": "message", "thinking": "reasoning", "tool_use": "function_call"}[b["type"]] for b in content]
    for item, block in zip(final["output"], content, strict=True):
        if item["type"] == "function_call":
            assert json.loads(item["arguments"]) == block["input"]
        elif item["type"] == "message":
            assert item["content"][0]["text"] == block["text"]
