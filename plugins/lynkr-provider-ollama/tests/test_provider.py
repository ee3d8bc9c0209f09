"""lynkr-provider-ollama through a running lynkr, with the official anthropic SDK as the
client and a fake Ollama: thinking, whole tool calls and done reasons over NDJSON, and the
native ``/api/chat`` body (plain round trips are the conformance suite's)."""

from __future__ import annotations

import pytest

from lynkr_core.testing.fake_ollama import OllamaReply

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
HELLO = [{"role": "user", "content": "hello"}]
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_becomes_a_thinking_block(gateway, stream):
    reply = OllamaReply("Four.", thinking="Two plus two is four.", chunk_size=4)
    async with gateway([reply]) as gw:
        request = dict(
            model="m",
            max_tokens=2000,
            messages=[{"role": "user", "content": "2+2?"}],
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Two plus two is four."
    assert message.content[1].text == "Four."
    assert gw.fake.chat_requests[0].json["think"] is True


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls_become_tool_use_blocks(gateway, stream):
    reply = OllamaReply(
        "Checking both.",
        chunk_size=5,
        tool_calls=[("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"})],
        prompt_eval_count=40,
        eval_count=22,
    )
    async with gateway([reply]) as gw:
        request = dict(model="m", max_tokens=100, messages=HELLO, tools=[WEATHER])
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                fragments = [e.partial_json async for e in events if e.type == "input_json"]
                message = await events.get_final_message()
            assert fragments  # sent as input_json_delta events
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
    assert message.content[0].text == "Checking both."
    assert [(b.name, b.input) for b in message.content[1:]] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    assert message.content[1].id != message.content[2].id
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (40, 22)


@pytest.mark.parametrize("stream", [False, True])
async def test_done_reason_length_is_max_tokens(gateway, stream):
    reply = OllamaReply("This answer ran out of", chunk_size=6, done_reason="length")
    async with gateway([reply]) as gw:
        request = dict(model="m", max_tokens=6, messages=HELLO)
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == "This answer ran out of"


# --------------------------------------------------------------------------- the native body


async def test_native_chat_body(gateway):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image, and the weather in Paris?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "A pixel. Checking the weather."},
                {
                    "type": "tool_use",
                    "id": "toolu_7",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_7", "content": "sunny"},
                {"type": "text", "text": "Answer as JSON."},
            ],
        },
    ]
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    env = {
        "OLLAMA_MAX_OUTPUT_TOKENS": "4096",
        "OLLAMA_NUM_CTX": "32768",
        "OLLAMA_KEEP_ALIVE": "10m",
    }
    async with gateway([OllamaReply('{"answer": "sunny"}')], **env) as gw:
        message = await gw.sdk.messages.create(
            model="claude-opus-4-8",
            max_tokens=20000,
            system="You describe images.",
            messages=messages,
            tools=[WEATHER],
            stop_sequences=["</answer>"],
            thinking={"type": "enabled", "budget_tokens": 2048},
            extra_body={
                "temperature": 0.2,
                "output_config": {"format": {"type": "json_schema", "schema": schema}},
            },
        )
    assert message.content[0].text == '{"answer": "sunny"}'
    sent = gw.fake.chat_requests[0]
    assert sent.path == "/api/chat" and sent.query == {}
    for header in ("authorization", "x-api-key", "api-key"):
        assert header not in sent.headers
    assert gw.client_key not in str(sent.headers) and gw.client_key not in sent.body.decode()
    assert sent.json == {
        "model": "qwen2.5-coder:7b",
        "messages": [
            {"role": "system", "content": "You describe images."},
            {
                "role": "user",
                "content": "What is in this image, and the weather in Paris?",
                "images": [PNG],  # base64, without the data: prefix
            },
            {
                "role": "assistant",
                "content": "A pixel. Checking the weather.",
                # arguments as an object, not a JSON string
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
                ],
            },
            {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
            {"role": "user", "content": "Answer as JSON."},
        ],
        "stream": False,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            }
        ],
        "options": {
            "num_predict": 4096,
            "temperature": 0.2,
            "stop": ["</answer>"],
            "num_ctx": 32768,
        },
        "format": schema,
        "think": True,
        "keep_alive": "10m",
    }


async def test_streaming_body_leaves_out_what_was_not_asked(gateway):
    async with gateway([OllamaReply("ok")]) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=300, messages=HELLO) as stream:
            await stream.get_final_message()
    assert gw.fake.chat_requests[0].json == {
        "model": "qwen2.5-coder:7b",
        "messages": [{"role": "user", "content": "hello"}],
        "stream": True,
        "options": {"num_predict": 300},
    }


@pytest.mark.parametrize(
    ("keep_alive", "sent"), [("-1", -1), ("3600", 3600), ("0", 0), ("1h", "1h")]
)
async def test_keep_alive_numbers_are_sent_as_numbers(gateway, keep_alive, sent):
    # Ollama parses a string keep_alive as a Go duration: "-1" or "3600" would be a 400
    async with gateway([OllamaReply("ok")], OLLAMA_KEEP_ALIVE=keep_alive) as gw:
        await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert gw.fake.chat_requests[0].json["keep_alive"] == sent


async def test_a_routed_model_is_sent(gateway):
    routes = "haiku=ollama:llama3.2:3b"
    async with gateway(
        [OllamaReply("small")], models=["llama3.2:3b"], LYNKR_MODEL_ROUTES=routes
    ) as gw:
        message = await gw.sdk.messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=HELLO
        )
    assert message.content[0].text == "small"
    assert gw.fake.chat_requests[0].json["model"] == "llama3.2:3b"


async def test_gpt_oss_gets_a_thinking_level(gateway):
    async with gateway(
        [OllamaReply("ok")], models=["gpt-oss:20b"], OLLAMA_MODEL="gpt-oss:20b"
    ) as gw:
        await gw.sdk.messages.create(
            model="m",
            max_tokens=20000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 16384},
        )
    body = gw.fake.chat_requests[0].json
    assert body["think"] == "high"
    assert body["options"]["num_predict"] == 20000
