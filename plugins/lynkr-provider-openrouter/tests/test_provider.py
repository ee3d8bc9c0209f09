"""lynkr-provider-openrouter through a running lynkr, with the official anthropic SDK as the
client and a fake OpenRouter upstream: parallel calls, reasoning with a tool call, and the
exact upstream request (plain round trips are the conformance suite's)."""

from __future__ import annotations

import pytest

from lynkr_core.testing.fake_openai import ChatReply, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Local time in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
HELLO = [{"role": "user", "content": "hello"}]


def valid_openrouter_body(body: dict) -> None:
    """The body is an OpenAI chat request, apart from OpenRouter's own ``reasoning`` key."""
    assert_valid_chat_request({k: v for k, v in body.items() if k != "reasoning"})


# --------------------------------------------------------------------------- round trips


async def test_streamed_cached_usage_is_reported_apart(gateway):
    async with gateway([ChatReply("Cached.", chunk_size=3, usage=(20, 11, 4))]) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=100, messages=HELLO) as stream:
            message = await stream.get_final_message()
    # cached prompt tokens are reported apart, as Anthropic does
    assert message.usage.input_tokens == 16
    assert message.usage.cache_read_input_tokens == 4
    assert message.usage.output_tokens == 11


async def test_two_interleaved_parallel_tool_calls_stream_as_two_blocks(gateway):
    reply = ChatReply(
        tool_calls=[
            ToolCallSpec("get_weather", {"city": "Oslo"}),
            ToolCallSpec("get_time", {"city": "Lima"}),
        ],
        arguments_chunk_size=3,
        interleave=True,
    )
    async with gateway([reply]) as gw:
        async with gw.sdk.messages.stream(
            model="m", max_tokens=100, messages=HELLO, tools=[WEATHER, TIME]
        ) as stream:
            message = await stream.get_final_message()
    assert [(b.type, b.name, b.input) for b in message.content] == [
        ("tool_use", "get_weather", {"city": "Oslo"}),
        ("tool_use", "get_time", {"city": "Lima"}),
    ]
    assert message.content[0].id != message.content[1].id
    assert message.stop_reason == "tool_use"


async def test_streamed_and_plain_answers_are_the_same_message(gateway):
    reply = dict(
        content="Here you go.",
        reasoning="The user wants weather.",
        tool_calls=[ToolCallSpec("get_weather", {"city": "Rome"}, id="call_1")],
        usage=(10, 10),
    )
    script = [ChatReply(**reply, chunk_size=2, arguments_chunk_size=2), ChatReply(**reply)]
    request = dict(model="m", max_tokens=100, messages=HELLO, tools=[WEATHER])
    async with gateway(script) as gw:
        async with gw.sdk.messages.stream(**request) as stream:
            streamed = await stream.get_final_message()
        plain = await gw.sdk.messages.create(**request)
    assert streamed.model_dump(exclude={"id"}) == plain.model_dump(exclude={"id"})
    assert [b.type for b in plain.content] == ["thinking", "text", "tool_use"]


# --------------------------------------------------------------------------- the upstream request


async def test_upstream_request_path_headers_and_body(gateway):
    async with gateway([ChatReply("ok")]) as gw:
        await gw.sdk.messages.create(
            model="claude-opus-4-8",
            max_tokens=20000,
            system="Be brief.",
            messages=HELLO,
            tools=[WEATHER],
            stop_sequences=["END"],
            extra_body={"temperature": 0.3},  # this SDK version has no temperature argument
        )
    sent = gw.fake.chat_requests[0]
    assert sent.method == "POST"
    assert sent.path == "/api/v1/chat/completions" and sent.query == {}
    assert sent.headers["authorization"] == f"Bearer {gw.upstream_key}"
    assert sent.headers["http-referer"] == "https://github.com/lynkr-gateway/lynkr"
    assert sent.headers["x-title"] == "lynkr"
    assert sent.headers["content-type"] == "application/json"
    for header in ("x-api-key", "api-key", "anthropic-version", "anthropic-beta"):
        assert header not in sent.headers
    assert gw.client_key not in str(sent.headers) and gw.client_key not in sent.body.decode()

    body = sent.json
    valid_openrouter_body(body)
    assert body["model"] == gw.model  # OPENROUTER_MODEL, not the client's model name
    assert body["max_tokens"] == 16384  # gpt-4o's output limit
    assert "max_completion_tokens" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city"],
                },
            },
        }
    ]
    assert body["temperature"] == 0.3 and body["stop"] == ["END"]
    assert body["stream"] is False and "stream_options" not in body
    assert "reasoning" not in body and "reasoning_effort" not in body


async def test_max_output_tokens_setting_clamps_max_tokens(gateway):
    async with gateway(
        [ChatReply("ok"), ChatReply("ok")], OPENROUTER_MAX_OUTPUT_TOKENS="1000"
    ) as gw:
        await gw.sdk.messages.create(model="m", max_tokens=20000, messages=HELLO)
        await gw.sdk.messages.create(model="m", max_tokens=200, messages=HELLO)
    first, second = (r.json["max_tokens"] for r in gw.fake.chat_requests)
    assert (first, second) == (1000, 200)


async def test_model_route_picks_the_upstream_model(gateway):
    routes = "haiku=openrouter:google/gemini-2.0-flash-001"
    async with gateway([ChatReply("ok"), ChatReply("ok")], LYNKR_MODEL_ROUTES=routes) as gw:
        await gw.sdk.messages.create(model="claude-haiku-4-5", max_tokens=20000, messages=HELLO)
        await gw.sdk.messages.create(model="claude-opus-4-8", max_tokens=100, messages=HELLO)
    routed, default = (r.json for r in gw.fake.chat_requests)
    assert routed["model"] == "google/gemini-2.0-flash-001"
    assert routed["max_tokens"] == 8192  # that model's limit
    assert default["model"] == gw.model


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        (
            {"type": "tool", "name": "get_time"},
            {"type": "function", "function": {"name": "get_time"}},
        ),
    ],
)
async def test_tool_choice_mapping(gateway, tool_choice, expected):
    async with gateway([ChatReply("ok")]) as gw:
        await gw.sdk.messages.create(
            model="m", max_tokens=10, messages=HELLO, tools=[WEATHER, TIME], tool_choice=tool_choice
        )
    body = gw.fake.chat_requests[0].json
    valid_openrouter_body(body)
    assert body["tool_choice"] == expected
    assert "parallel_tool_calls" not in body


async def test_disable_parallel_tool_use_is_passed_on(gateway):
    async with gateway([ChatReply("ok")]) as gw:
        await gw.sdk.messages.create(
            model="m",
            max_tokens=10,
            messages=HELLO,
            tools=[WEATHER],
            tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        )
    body = gw.fake.chat_requests[0].json
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is False


async def test_tool_history_becomes_tool_calls_and_tool_messages(gateway):
    messages = [
        {"role": "user", "content": "Weather in Paris and the time in Lima?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "two calls", "signature": "sig"},
                {"type": "text", "text": "Checking both."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "get_time",
                    "input": {"city": "Lima"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "09:30"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "sunny, 21°C"}],
                },
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]
    async with gateway([ChatReply("Sunny in Paris; 09:30 in Lima.")]) as gw:
        message = await gw.sdk.messages.create(
            model="m", max_tokens=100, messages=messages, tools=[WEATHER, TIME]
        )
    assert message.content[0].text == "Sunny in Paris; 09:30 in Lima."
    body = gw.fake.chat_requests[0].json
    valid_openrouter_body(body)
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and the time in Lima?"},
        {
            "role": "assistant",
            "content": "Checking both.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"city":"Lima"}'},
                },
            ],
        },
        {"role": "tool", "content": "sunny, 21°C", "tool_call_id": "toolu_1"},
        {"role": "tool", "content": "09:30", "tool_call_id": "toolu_2"},
        {"role": "user", "content": "Thanks!"},
    ]


async def test_models_list_names_the_configured_model(gateway):
    async with gateway() as gw:
        page = await gw.sdk.models.list()
    assert [model.id for model in page.data] == [gw.model]
