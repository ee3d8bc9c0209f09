"""lynkr-provider-llamacpp through a running lynkr, with the official anthropic SDK as the
client and a fake llama-server: finish reasons, parallel calls and reasoning, the exact
upstream request, endpoint forms (plain round trips are the conformance suite's)."""

from __future__ import annotations

import pytest

from lynkr_core.testing.fake_openai import ChatReply, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Local time in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
HELLO = [{"role": "user", "content": "hello"}]


# --------------------------------------------------------------------------- round trips


async def test_length_finish_is_max_tokens(gateway):
    async with gateway([ChatReply("cut sh", finish_reason="length", chunk_size=2)]) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=3, messages=HELLO) as stream:
            message = await stream.get_final_message()
    assert message.stop_reason == "max_tokens"


async def test_two_interleaved_tool_calls(gateway):
    reply = ChatReply(
        tool_calls=[
            ToolCallSpec("get_weather", {"city": "Oslo"}),
            ToolCallSpec("get_time", {"city": "Kyiv"}),
        ],
        arguments_chunk_size=3,
        interleave=True,
    )
    async with gateway([reply]) as gw:
        async with gw.sdk.messages.stream(
            model="m", max_tokens=50, messages=HELLO, tools=[WEATHER, TIME]
        ) as stream:
            message = await stream.get_final_message()
    assert [(b.name, b.input) for b in message.content] == [
        ("get_weather", {"city": "Oslo"}),
        ("get_time", {"city": "Kyiv"}),
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_content_becomes_a_thinking_block(gateway, stream):
    reply = ChatReply("It is 42.", reasoning="Think about the question first.", chunk_size=4)
    async with gateway([reply]) as gw:
        request = dict(model="m", max_tokens=50, messages=HELLO)
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Think about the question first."
    assert message.content[1].text == "It is 42."


# --------------------------------------------------------------------------- the upstream request


async def test_upstream_request_path_headers_and_body(gateway):
    async with gateway([ChatReply("ok")]) as gw:
        async with gw.sdk.messages.stream(
            model="claude-opus-4-8",
            max_tokens=64000,
            system=[{"type": "text", "text": "You are terse."}],
            messages=HELLO,
            tools=[WEATHER, TIME],
            tool_choice={"type": "tool", "name": "get_time"},
            thinking={"type": "enabled", "budget_tokens": 4000},
        ) as stream:
            await stream.get_final_message()
    sent = gw.fake.chat_requests[0]
    assert sent.path == "/v1/chat/completions" and sent.query == {}
    # no key configured: no credential header at all, and never the client's
    for header in ("authorization", "x-api-key", "api-key", "anthropic-beta"):
        assert header not in sent.headers
    assert gw.client_key not in sent.body.decode()
    body = sent.json
    assert_valid_chat_request(body)
    assert body["model"] == "default"  # llama-server serves what it loaded
    assert body["max_tokens"] == 64000  # no known limit: left as asked
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    # llama-server has no reasoning request field: thinking is not asked for
    assert "reasoning_effort" not in body and "reasoning" not in body and "thinking" not in body


async def test_api_key_and_model_and_output_limit_settings(gateway):
    env = {"LLAMACPP_MODEL": "qwen2.5-coder-7b-q4", "LLAMACPP_MAX_OUTPUT_TOKENS": "4096"}
    async with gateway([ChatReply("ok")], key="llama-secret", **env) as gw:
        message = await gw.sdk.messages.create(model="m", max_tokens=8000, messages=HELLO)
    assert message.content[0].text == "ok"
    sent = gw.fake.chat_requests[0]
    assert sent.headers["authorization"] == "Bearer llama-secret"
    assert gw.client_key not in str(sent.headers)
    assert sent.json["model"] == "qwen2.5-coder-7b-q4"
    assert sent.json["max_tokens"] == 4096
    assert sent.json["stream"] is False and "stream_options" not in sent.json
    assert_valid_chat_request(sent.json)


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        ("", "/v1/chat/completions"),
        ("/", "/v1/chat/completions"),
        ("/v1", "/v1/chat/completions"),
        ("/v1/", "/v1/chat/completions"),
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/chat/completions", "/chat/completions"),
    ],
)
async def test_endpoint_forms(gateway, suffix, path):
    async with gateway([ChatReply("reached")], LLAMACPP_ENDPOINT="{base}" + suffix) as gw:
        message = await gw.sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
        health = await gw.check()
    assert message.content[0].text == "reached"
    assert gw.fake.chat_requests[0].path == path
    assert health.ok, health.detail
    assert [r.path for r in gw.fake.requests if r.method == "GET"] == ["/health"]


async def test_tool_history_becomes_tool_calls_and_a_tool_message(gateway):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "call_x1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "call_x1",
                    "content": "snow",
                    "is_error": False,
                }
            ],
        },
    ]
    async with gateway([ChatReply("It snows in Oslo.")]) as gw:
        message = await gw.sdk.messages.create(
            model="m", max_tokens=50, messages=messages, tools=[WEATHER]
        )
    assert message.content[0].text == "It snows in Oslo."
    body = gw.fake.chat_requests[0].json
    assert_valid_chat_request(body)
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_x1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "content": "snow", "tool_call_id": "call_x1"},
    ]
