"""lynkr-provider-databricks, driven by the official anthropic SDK through a running lynkr
to a scripted upstream that speaks Databricks Model Serving (``FakeOpenAI``, dialect databricks).

The behaviours every provider shows run from the conformance suite (``TestConformance``);
the tests here are Databricks' own: invocations paths, Claude thinking, error codes."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from lynkr_core.testing.conformance import MissingSetting, ProviderConformance, ProviderProfile
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import (
    CLAUDE_CODE_FIXTURES,
    Harness,
    assert_only_credential,
    claude_code_headers,
    stream_events,
)
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.upstream_scripts import OpenAIScripting

UPSTREAM_KEY = "dapi0123456789abcdef-operator"
CLIENT_KEY = "sk-ant-client-key-never-forwarded"
ENDPOINT = "databricks-claude-sonnet-4-5"
INVOCATIONS = f"/serving-endpoints/{ENDPOINT}/invocations"
NO_RETRIES = {"LYNKR_UPSTREAM_RETRIES": "0"}

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
    "description": "Local time in a time zone",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}
HELLO = [{"role": "user", "content": "hello"}]
THINK = {"type": "enabled", "budget_tokens": 2048}


def databricks_env(base_url: str, **extra: str) -> dict[str, str]:
    """An app that sends to the fake workspace's Claude serving endpoint."""
    return {
        "MODEL_PROVIDER": "databricks",
        "DATABRICKS_API_BASE": base_url,
        "DATABRICKS_API_KEY": UPSTREAM_KEY,
        "DATABRICKS_ENDPOINT_PATH": INVOCATIONS,
        **NO_RETRIES,
        **extra,
    }


HARNESS = Harness(databricks_env, client_key=CLIENT_KEY)


def fake_workspace(script: list[Any], *, endpoint: str | None = ENDPOINT) -> FakeOpenAI:
    """A scripted fake workspace serving ``endpoint`` (any, when None)."""
    return FakeOpenAI(script, dialect="databricks", api_key=UPSTREAM_KEY, deployment=endpoint)


def running(script: list[Any], *, endpoint: str | None = ENDPOINT, **env: str):
    """A scripted fake workspace serving ``endpoint`` (any, when None), lynkr, a client:
    ``(fake, sdk)``. ``{base}`` in an ``env`` value stands for the fake's base URL."""
    return HARNESS.run(fake_workspace(script, endpoint=endpoint), **env)


def sent(fake: FakeOpenAI, index: int = 0) -> dict[str, Any]:
    """The body of a recorded invocation: no ``model`` (the URL names the endpoint), and
    otherwise a Chat Completions request the openai SDK accepts (Databricks' own
    ``thinking`` key aside)."""
    request = fake.chat_requests[index]
    body = request.json
    assert "model" not in body
    endpoint = request.path.split("/")[2]
    assert_valid_chat_request(
        {"model": endpoint, **{k: v for k, v in body.items() if k != "thinking"}}
    )
    return body


def assert_only_upstream_credentials(headers: dict[str, str]) -> None:
    """A Bearer personal access token; the client's key is never passed on."""
    assert_only_credential(headers, "authorization", f"Bearer {UPSTREAM_KEY}", CLIENT_KEY)


# --------------------------------------------------------------------------- conformance


class TestConformance(ProviderConformance):
    """The behaviours every provider shows, against the fake workspace."""

    @pytest.fixture
    def provider_profile(self) -> ProviderProfile:
        """Databricks: the workspace URL and its token are required."""
        return ProviderProfile(
            harness=HARNESS,
            fake=fake_workspace,
            scripting=OpenAIScripting(),
            missing_settings=[
                MissingSetting.unset("DATABRICKS_API_BASE"),
                MissingSetting.unset("DATABRICKS_API_KEY"),
                MissingSetting.unset("DATABRICKS_API_BASE", "DATABRICKS_API_KEY"),
            ],
        )


# --------------------------------------------------------------------------- round trips


async def test_the_exact_request_to_the_invocations_path_without_a_model():
    async with running([ChatReply("Hello from Databricks.")]) as (fake, sdk):
        await sdk.messages.create(
            model="claude-sonnet-4-6", max_tokens=900, system="Be nice.", messages=HELLO
        )
    request = fake.chat_requests[0]
    assert (request.method, request.path, request.query) == ("POST", INVOCATIONS, {})
    assert_only_upstream_credentials(request.headers)
    assert sent(fake) == {
        "messages": [
            {"role": "system", "content": "Be nice."},
            {"role": "user", "content": "hello"},
        ],
        "max_tokens": 900,
        "stream": False,
    }


@pytest.mark.parametrize(
    ("api_base", "endpoint_path"),
    [
        ("{base}/", "serving-endpoints/my-endpoint/invocations"),
        ("{base}", "/serving-endpoints/my-endpoint/invocations"),
    ],
)
async def test_api_base_and_endpoint_path_make_the_exact_url(api_base, endpoint_path):
    async with running(
        [ChatReply("ok")],
        endpoint="my-endpoint",
        DATABRICKS_API_BASE=api_base,
        DATABRICKS_ENDPOINT_PATH=endpoint_path,
    ) as (fake, sdk):
        message = await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "ok"
    assert fake.chat_requests[0].path == "/serving-endpoints/my-endpoint/invocations"


async def test_tool_call_round_trip():
    reply = ChatReply(
        "Looking.", tool_calls=[ToolCallSpec("get_weather", {"city": "Oslo"}, id="call_db")]
    )
    async with running([reply]) as (fake, sdk):
        message = await sdk.messages.create(
            model="m", max_tokens=100, messages=HELLO, tools=[WEATHER], tool_choice={"type": "auto"}
        )
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert (message.content[1].id, message.content[1].input) == ("call_db", {"city": "Oslo"})
    assert message.stop_reason == "tool_use"
    body = sent(fake)
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER["input_schema"],
            },
        }
    ]
    assert body["tool_choice"] == "auto"


async def test_streamed_tool_calls_in_small_fragments():
    reply = ChatReply(
        tool_calls=[
            ToolCallSpec("get_weather", {"city": "Kraków"}, id="call_1"),
            ToolCallSpec("get_time", {"tz": "Europe/Warsaw"}, id="call_2"),
        ],
        arguments_chunk_size=3,
        usage=(70, 21),
    )
    async with running([reply]) as (fake, sdk):
        seen, message = await stream_events(
            sdk, model="m", max_tokens=100, messages=HELLO, tools=[WEATHER, TIME]
        )
    assert len([event for event in seen if event.type == "input_json"]) > 5
    assert [(b.id, b.name, b.input) for b in message.content] == [
        ("call_1", "get_weather", {"city": "Kraków"}),
        ("call_2", "get_time", {"tz": "Europe/Warsaw"}),
    ]
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (70, 21)
    sent(fake)


async def test_tool_history_becomes_tool_calls_and_a_tool_message_and_drops_thinking():
    history = [
        {"role": "user", "content": "weather in Bern?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "use the tool", "signature": "sig-1"},
                {
                    "type": "tool_use",
                    "id": "toolu_9",
                    "name": "get_weather",
                    "input": {"city": "Bern"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "9C, fog"}],
        },
    ]
    async with running([ChatReply("Foggy, 9C.")]) as (fake, sdk):
        message = await sdk.messages.create(
            model="m", max_tokens=4096, messages=history, tools=[WEATHER], thinking=THINK
        )
    assert message.content[0].text == "Foggy, 9C."
    body = sent(fake)
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "toolu_9",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Bern"}'},
                }
            ],
        },
        {"role": "tool", "content": "9C, fog", "tool_call_id": "toolu_9"},
    ]
    # Claude refuses thinking that continues a tool loop without its signed thinking blocks
    assert "thinking" not in body


# --------------------------------------------------------------------------- thinking


@pytest.mark.parametrize("stream", [False, True])
async def test_claude_endpoint_thinking_round_trip_with_signature(stream):
    reply = ChatReply(
        "The answer is 4.",
        reasoning="2 plus 2 is 4.",
        databricks_reasoning=True,
        signature="sig-databricks-xyz",
        chunk_size=5,
        usage=(25, 30),
    )
    async with running([reply, ChatReply("6.")]) as (fake, sdk):
        request = dict(model="claude-sonnet-4-6", max_tokens=4096, messages=HELLO, thinking=THINK)
        if stream:
            seen, message = await stream_events(sdk, **request)
            assert [e.type for e in seen].count("thinking") > 1
        else:
            message = await sdk.messages.create(**request)
        # the next turn sends Claude's reasoning back with Databricks' signature
        history = [*HELLO, {"role": "assistant", "content": [b.model_dump() for b in message.content]},
                   {"role": "user", "content": "and 3 + 3?"}]
        await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=4096, messages=history, thinking=THINK)
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "2 plus 2 is 4."
    # lynkr's own signature, carrying Databricks' one
    assert message.content[0].signature.startswith("lynkr1.")
    assert fake.chat_requests[1].json["messages"][1]["content"] == [
        {"type": "reasoning",
         "summary": [{"type": "summary_text", "text": "2 plus 2 is 4.", "signature": "sig-databricks-xyz"}]},
        {"type": "text", "text": "The answer is 4."},
    ]
    assert message.content[1].text == "The answer is 4."
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (25, 30)

    body = sent(fake)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 4096
    assert "reasoning_effort" not in body


async def test_routed_gpt_oss_endpoint_gets_its_path_and_reasoning_effort():
    script = [ChatReply("routed", reasoning="thinking hard", chunk_size=4), ChatReply("plain")]
    routes = "haiku=databricks:databricks-gpt-oss-120b"
    async with running(script, endpoint=None, LYNKR_MODEL_ROUTES=routes) as (fake, sdk):
        _, message = await stream_events(
            sdk, model="claude-haiku-4-5", max_tokens=64000, messages=HELLO, thinking=THINK
        )
        await sdk.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=HELLO)
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "thinking hard"
    for index in (0, 1):
        assert (
            fake.chat_requests[index].path
            == "/serving-endpoints/databricks-gpt-oss-120b/invocations"
        )
        assert_only_upstream_credentials(fake.chat_requests[index].headers)
    body = sent(fake, 0)
    assert body["reasoning_effort"] == "low"  # a 2048-token budget
    assert body["max_tokens"] == 32768  # gpt-oss's output limit
    assert "thinking" not in body
    assert "reasoning_effort" not in sent(fake, 1)  # only when the client asked for thinking


async def test_an_unrouted_model_keeps_the_configured_endpoint():
    routes = "haiku=databricks:databricks-gpt-oss-120b"
    async with running([ChatReply("ok")], LYNKR_MODEL_ROUTES=routes) as (fake, sdk):
        await sdk.messages.create(model="claude-opus-4-8", max_tokens=10, messages=HELLO)
    assert fake.chat_requests[0].path == INVOCATIONS


@pytest.mark.parametrize(
    ("env", "requested", "expected"),
    [
        ({}, 100000, 64000),  # claude-sonnet-4-5's limit
        ({"DATABRICKS_MAX_OUTPUT_TOKENS": "8000"}, 100000, 8000),
        ({"DATABRICKS_MAX_OUTPUT_TOKENS": "8000"}, 500, 500),
    ],
)
async def test_max_tokens_clamp(env, requested, expected):
    async with running([ChatReply("ok")], **env) as (fake, sdk):
        await stream_events(sdk, model="m", max_tokens=requested, messages=HELLO)
    assert sent(fake)["max_tokens"] == expected


# --------------------------------------------------------------------------- errors


async def test_a_wrong_token_is_a_401_with_databricks_message():
    async with running([], DATABRICKS_API_KEY="dapi-wrong") as (fake, sdk):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {
        "type": "authentication_error",
        "message": "UNAUTHENTICATED: Invalid access token.",
    }
    assert fake.chat_requests[0].headers["authorization"] == "Bearer dapi-wrong"


@pytest.mark.parametrize(
    ("status", "code", "sdk_error", "error_type"),
    [
        (400, "BAD_REQUEST", anthropic.BadRequestError, "invalid_request_error"),
        (429, "REQUEST_LIMIT_EXCEEDED", anthropic.RateLimitError, "rate_limit_error"),
        (503, "TEMPORARILY_UNAVAILABLE", anthropic.InternalServerError, "overloaded_error"),
    ],
)
async def test_error_code_bodies_reach_the_client(status, code, sdk_error, error_type):
    message = f"Exceeded workspace limit ({status})."
    async with running([ErrorReply(status, message, retry_after=4)]) as (fake, sdk):
        with pytest.raises(sdk_error) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == status
    assert caught.value.body["error"] == {"type": error_type, "message": f"{code}: {message}"}
    assert caught.value.response.headers["retry-after"] == "4"
    assert len(fake.chat_requests) == 1


async def test_a_routed_endpoint_that_does_not_exist_is_a_404():
    routes = "haiku=databricks:no-such-endpoint"
    async with running([], LYNKR_MODEL_ROUTES=routes) as (_, sdk):
        with pytest.raises(anthropic.NotFoundError) as caught:
            await sdk.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["message"] == (
        "RESOURCE_DOES_NOT_EXIST: Endpoint with name 'no-such-endpoint' does not exist."
    )


async def test_an_error_code_inside_the_stream_reaches_the_sdk_with_its_message():
    error = ErrorReply(429, "Rate limit hit mid-stream.", in_stream=True, partial="Some text")
    texts: list[str] = []
    async with running([error]) as (_, sdk):
        with pytest.raises(anthropic.APIStatusError) as caught:
            async with sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
                async for event in stream:
                    if event.type == "text":
                        texts.append(event.text)
    assert "".join(texts) == "Some text"
    assert caught.value.body["error"] == {
        "type": "rate_limit_error",
        "message": "REQUEST_LIMIT_EXCEEDED: Rate limit hit mid-stream.",
    }


async def test_text_that_mentions_error_code_is_just_text():
    reply = ChatReply('Set {"error_code": 0} in the config.', chunk_size=50)
    async with running([reply]) as (_, sdk):
        _, message = await stream_events(sdk, model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == 'Set {"error_code": 0} in the config.'


async def test_an_error_code_before_the_stream_says_anything_is_an_http_error():
    error = ErrorReply(429, "Too many requests.", in_stream=True)
    async with running([error]) as (_, sdk):
        with pytest.raises(anthropic.RateLimitError) as caught:
            await stream_events(sdk, model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.body["error"]["message"] == "REQUEST_LIMIT_EXCEEDED: Too many requests."


async def test_databricks_is_the_default_provider():
    # no MODEL_PROVIDER: databricks answers, and says what it needs
    async with HARNESS.serve(NO_RETRIES) as (_, sdk):
        with pytest.raises(anthropic.InternalServerError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    message = caught.value.body["error"]["message"]
    assert "databricks is not configured" in message
    assert "DATABRICKS_API_BASE" in message and "DATABRICKS_API_KEY" in message


@pytest.mark.parametrize("turn", ["turn1", "turn2"])
async def test_a_real_claude_code_request_translates_and_streams_back(turn):
    raw = (CLAUDE_CODE_FIXTURES / f"{turn}.json").read_bytes()
    reply = ChatReply(
        "Done.", reasoning="The user wants a file.", databricks_reasoning=True, chunk_size=4
    )
    fake = FakeOpenAI([reply], dialect="databricks", api_key=UPSTREAM_KEY, deployment=ENDPOINT)
    async with HARNESS.run(fake) as gw:
        status, events = await gw.post_sse(raw, claude_code_headers())
    names = [name for name, _ in events]
    assert status == 200
    assert names[0] == "message_start" and names[-1] == "message_stop" and "error" not in names
    blocks = [
        data["content_block"]["type"] for name, data in events if name == "content_block_start"
    ]
    assert blocks == ["thinking", "text"]
    signatures = [
        data["delta"]["signature"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "signature_delta"
    ]
    assert len(signatures) == 1 and signatures[0].startswith("lynkr1.")  # lynkr's, carrying Databricks'

    body = sent(fake)
    assert_only_upstream_credentials(fake.chat_requests[0].headers)
    assert not [
        name for name in fake.chat_requests[0].headers if name.startswith(("anthropic", "x-"))
    ]
    assert body["max_tokens"] == 64000 and body["stream"] is True
    assert {"Bash", "Write"} <= {tool["function"]["name"] for tool in body["tools"]}
    for absent in ("context_management", "output_config", "metadata", "reasoning_effort"):
        assert absent not in body
    if turn == "turn1":  # adaptive thinking: Claude Code's request, with lynkr's budget
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 10240}
    else:  # a tool loop without signed thinking: none asked
        assert "thinking" not in body
        assert [m["role"] for m in body["messages"]][-2:] == ["assistant", "tool"]
