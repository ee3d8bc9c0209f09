"""lynkr-provider-openai, driven by the official anthropic SDK through a running lynkr
to a scripted upstream that speaks OpenAI Chat Completions (``FakeOpenAI``, dialect openai).

The behaviours every provider shows run from the conformance suite (``TestConformance``);
the tests here are OpenAI's own: the exact request, its settings, reasoning models."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from lynkr_provider_openai.config import OpenAISettings
from lynkr_provider_openai.provider import OpenAIProvider

from lynkr_core import RequestContext, Settings, translate
from lynkr_core import anthropic as wire
from lynkr_core.testing.conformance import MissingSetting, ProviderConformance, ProviderProfile
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import (
    CLAUDE_CODE_FIXTURES,
    Harness,
    assert_only_credential,
    claude_code_headers,
    openai_upstream_env,
    stream_events,
)
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.upstream_scripts import OpenAIScripting

UPSTREAM_KEY = "sk-upstream-operator-key"
CLIENT_KEY = "sk-ant-client-key-never-forwarded"
NO_RETRIES = {"LYNKR_UPSTREAM_RETRIES": "0"}

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "array"}},
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Local time in a time zone",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}
HELLO = [{"role": "user", "content": "hello"}]


def openai_env(base_url: str, **extra: str) -> dict[str, str]:
    """An app that sends to the fake's chat completions URL (not api.openai.com)."""
    return openai_upstream_env(base_url, UPSTREAM_KEY, **{**NO_RETRIES, **extra})


HARNESS = Harness(openai_env, client_key=CLIENT_KEY)


def fake_openai(script: list[Any], *, key: str | None = UPSTREAM_KEY) -> FakeOpenAI:
    """A scripted fake OpenAI upstream that takes only ``key`` (any, when None)."""
    return FakeOpenAI(script, dialect="openai", api_key=key)


def running(script: list[Any], *, fake_key: str | None = UPSTREAM_KEY, **env: str):
    """A scripted fake OpenAI upstream, lynkr in front of it, and a client: ``(fake, sdk)``."""
    return HARNESS.run(fake_openai(script, key=fake_key), **env)


def sent(fake: FakeOpenAI, index: int = 0) -> dict[str, Any]:
    """The body of a recorded chat request, checked against the openai SDK's types."""
    body = fake.chat_requests[index].json
    assert_valid_chat_request(body)
    return body


def assert_only_upstream_credentials(headers: dict[str, str]) -> None:
    """Bearer auth with the operator's key; the client's key is never passed on."""
    assert_only_credential(headers, "authorization", f"Bearer {UPSTREAM_KEY}", CLIENT_KEY)


# --------------------------------------------------------------------------- conformance


class TestConformance(ProviderConformance):
    """The behaviours every provider shows, against the fake OpenAI."""

    @pytest.fixture
    def provider_profile(self) -> ProviderProfile:
        """OpenAI: only api.openai.com needs a key (any other server may go without)."""
        api_openai_com = {"OPENAI_ENDPOINT": "https://api.openai.com/v1/chat/completions"}
        missing_key = MissingSetting({**api_openai_com, "OPENAI_API_KEY": ""}, ("OPENAI_API_KEY",))
        return ProviderProfile(
            harness=HARNESS,
            fake=fake_openai,
            scripting=OpenAIScripting(),
            missing_settings=[missing_key],
        )


# --------------------------------------------------------------------------- round trips


async def test_the_exact_upstream_request():
    async with running([ChatReply("Hello from GPT.")]) as (fake, sdk):
        await sdk.messages.create(
            model="claude-sonnet-4-6", max_tokens=1000, system="Be brief.", messages=HELLO
        )
    request = fake.chat_requests[0]
    assert (request.method, request.path, request.query) == ("POST", "/v1/chat/completions", {})
    assert_only_upstream_credentials(request.headers)
    assert "openai-organization" not in request.headers
    body = sent(fake)
    assert body == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello"},
        ],
        "max_tokens": 1000,  # not api.openai.com: the field every server knows
        "stream": False,
    }


async def test_streamed_cached_usage_is_reported_apart():
    reply = ChatReply("Streaming text arrives in small pieces.", chunk_size=4, usage=(30, 6, 10))
    async with running([reply]) as (fake, sdk):
        _, message = await stream_events(
            sdk, model="claude-sonnet-4-6", max_tokens=500, messages=HELLO
        )
    assert message.usage.input_tokens == 20 and message.usage.cache_read_input_tokens == 10
    assert message.usage.output_tokens == 6
    body = sent(fake)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_tool_call_round_trip_with_tools_as_functions():
    reply = ChatReply(
        "Let me check.",
        tool_calls=[ToolCallSpec("get_weather", {"city": "Paris", "days": [1, 2]}, id="call_w1")],
    )
    async with running([reply]) as (fake, sdk):
        message = await sdk.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=300,
            messages=HELLO,
            tools=[WEATHER, TIME],
            tool_choice={"type": "tool", "name": "get_weather"},
        )
    assert [block.type for block in message.content] == ["text", "tool_use"]
    call = message.content[1]
    assert (call.id, call.name, call.input) == (
        "call_w1",
        "get_weather",
        {"city": "Paris", "days": [1, 2]},
    )
    assert message.stop_reason == "tool_use"

    body = sent(fake)
    assert body["tools"][0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {  # $schema is stripped, the rest kept
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "array"}},
                "required": ["city"],
            },
        },
    }
    assert body["tools"][1]["function"]["name"] == "get_time"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ({"type": "auto"}, {"tool_choice": "auto"}),
        ({"type": "any"}, {"tool_choice": "required"}),
        ({"type": "none"}, {"tool_choice": "none"}),
        (
            {"type": "auto", "disable_parallel_tool_use": True},
            {"tool_choice": "auto", "parallel_tool_calls": False},
        ),
    ],
)
async def test_tool_choice_mapping(tool_choice, expected):
    async with running([ChatReply("ok")]) as (fake, sdk):
        await sdk.messages.create(
            model="m", max_tokens=50, messages=HELLO, tools=[WEATHER], tool_choice=tool_choice
        )
    body = sent(fake)
    assert {
        key: body[key] for key in ("tool_choice", "parallel_tool_calls") if key in body
    } == expected


async def test_streamed_parallel_tool_calls_interleaved():
    reply = ChatReply(
        tool_calls=[
            ToolCallSpec("get_weather", {"city": "Paris", "days": [1]}, id="call_a"),
            ToolCallSpec("get_time", {"tz": "Europe/Paris"}, id="call_b"),
        ],
        arguments_chunk_size=3,
        interleave=True,
    )
    async with running([reply]) as (fake, sdk):
        seen, message = await stream_events(
            sdk, model="m", max_tokens=300, messages=HELLO, tools=[WEATHER, TIME]
        )
    calls = [(block.id, block.name, block.input) for block in message.content]
    assert calls == [
        ("call_a", "get_weather", {"city": "Paris", "days": [1]}),
        ("call_b", "get_time", {"tz": "Europe/Paris"}),
    ]
    assert message.stop_reason == "tool_use"
    starts = [event.index for event in seen if event.type == "content_block_start"]
    assert starts == [0, 1]
    names = [tool["function"]["name"] for tool in sent(fake)["tools"]]
    assert names == ["get_weather", "get_time"]


async def test_tool_use_and_tool_result_history_become_tool_calls_and_a_tool_message():
    history = [
        {"role": "user", "content": "Weather in Paris and the time there?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "two tools", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {"tz": "CET"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "14:05"}],
                },
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C, sunny"},
                {"type": "text", "text": "Thanks. And tomorrow?"},
            ],
        },
    ]
    async with running([ChatReply("Tomorrow: rain.")]) as (fake, sdk):
        message = await sdk.messages.create(
            model="m", max_tokens=100, messages=history, tools=[WEATHER, TIME]
        )
    assert message.content[0].text == "Tomorrow: rain."
    messages = sent(fake)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            },
            {
                "id": "toolu_2",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"tz":"CET"}'},
            },
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "content": "18C, sunny", "tool_call_id": "toolu_1"},
        {"role": "tool", "content": "14:05", "tool_call_id": "toolu_2"},
        {"role": "user", "content": "Thanks. And tomorrow?"},
    ]


# --------------------------------------------------------------------------- errors


async def test_a_rejected_upstream_key_is_a_401_with_the_upstream_message():
    async with running([], OPENAI_API_KEY="sk-wrong-operator-key") as (fake, sdk):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.body["error"]["type"] == "authentication_error"
    assert caught.value.body["error"]["message"].startswith("Incorrect API key provided: sk-")
    assert fake.chat_requests[0].headers["authorization"] == "Bearer sk-wrong-operator-key"


async def test_a_404_is_not_found_whatever_type_openai_names():
    # OpenAI says "invalid_request_error" for a 404 too: the status decides
    message = "The model `gpt-9` does not exist or you do not have access to it."
    async with running([ErrorReply(404, message)]) as (_, sdk):
        with pytest.raises(anthropic.NotFoundError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "not_found_error", "message": message}


async def test_the_providers_read_timeout_is_a_504():
    slow = ChatReply("too late", first_byte_delay=2)
    async with running([slow], OPENAI_TIMEOUT_MS="150") as (_, sdk):
        with pytest.raises(anthropic.APIStatusError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 504
    assert caught.value.body["error"]["type"] == "timeout_error"


@pytest.mark.parametrize("turn", ["turn1", "turn2"])
async def test_a_real_claude_code_request_translates_and_streams_back(turn):
    raw = (CLAUDE_CODE_FIXTURES / f"{turn}.json").read_bytes()
    reply = ChatReply("Working on it.", chunk_size=4, usage=(9000, 5))
    fake = FakeOpenAI([reply], api_key=UPSTREAM_KEY)
    async with HARNESS.run(fake) as gw:
        status, events = await gw.post_sse(raw, claude_code_headers())
    names = [name for name, _ in events]
    assert status == 200
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "error" not in names
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert text == "Working on it."
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"

    body = sent(fake)
    assert_only_upstream_credentials(fake.chat_requests[0].headers)
    assert not [
        name for name in fake.chat_requests[0].headers if name.startswith(("anthropic", "x-"))
    ]
    assert body["model"] == "gpt-4o" and body["stream"] is True
    assert body["max_tokens"] == 16384  # Claude Code asks for 64000; gpt-4o's limit
    assert {"Bash", "Write", "Edit", "Read"} <= {tool["function"]["name"] for tool in body["tools"]}
    roles = [message["role"] for message in body["messages"]]
    assert roles[0] == "system" and "system" not in roles[1:]
    for absent in (
        "thinking",
        "reasoning_effort",
        "context_management",
        "output_config",
        "metadata",
    ):
        assert absent not in body
    if turn == "turn2":
        call = next(message for message in body["messages"] if message.get("tool_calls"))
        answer = body["messages"][body["messages"].index(call) + 1]
        assert call["tool_calls"][0]["function"]["name"] == "Write"
        assert answer["role"] == "tool"
        assert answer["tool_call_id"] == call["tool_calls"][0]["id"]


# --------------------------------------------------------------------------- openai specifics


def _provider(**settings: Any) -> OpenAIProvider:
    return OpenAIProvider(OpenAISettings(**settings), Settings({}))


def _context(model: str = "") -> RequestContext:
    return RequestContext(request_id="r", http=None, settings=Settings({}), log=None, model=model)  # type: ignore[arg-type]


def _request(**fields: Any) -> wire.MessagesRequest:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 64000, "messages": HELLO, **fields}
    return wire.decode_request(json.dumps(body).encode())


async def test_api_openai_com_gets_max_completion_tokens_and_needs_a_key():
    provider = _provider(api_key="sk-x")
    translated = translate.translate_request(_request(), provider.target(_request(), _context()))
    body = json.loads(provider.encode_body(translated))
    assert body["max_completion_tokens"] == 16384 and "max_tokens" not in body
    assert provider.auth_headers() == {"authorization": "Bearer sk-x"}
    assert_valid_chat_request(body)

    health = await _provider().check(_context())  # no request is made without a key
    assert not health.ok and "OPENAI_API_KEY" in health.detail


def test_other_servers_get_max_tokens_and_need_no_key():
    provider = _provider(endpoint="http://localhost:8000/v1/chat/completions", model="qwen3-coder")
    target = provider.target(_request(), _context())
    assert target.token_field == "max_tokens" and target.model == "qwen3-coder"
    assert provider.auth_headers() == {}
    body = json.loads(provider.encode_body(translate.translate_request(_request(), target)))
    assert body["max_tokens"] == 64000  # an unknown model is left as asked
    assert provider.target(_request(), _context("gpt-4.1")).model == "gpt-4.1"  # a routed model


async def test_a_keyless_local_server_gets_no_authorization_header():
    async with running([ChatReply("local")], fake_key=None, OPENAI_API_KEY="") as (fake, sdk):
        message = await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "local"
    headers = fake.chat_requests[0].headers
    assert "authorization" not in headers and CLIENT_KEY not in json.dumps(headers)


async def test_organization_header():
    async with running([ChatReply("ok")], OPENAI_ORGANIZATION="org-lynkr42") as (fake, sdk):
        await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    headers = fake.chat_requests[0].headers
    assert headers["openai-organization"] == "org-lynkr42"
    assert_only_upstream_credentials(headers)


@pytest.mark.parametrize(
    ("model", "thinking", "output_config", "effort", "limit"),
    [
        ("o3-mini", {"type": "enabled", "budget_tokens": 2048}, None, "low", 100000),
        ("gpt-5", {"type": "enabled", "budget_tokens": 20000}, None, "high", 128000),
        ("gpt-5", {"type": "adaptive"}, {"effort": "medium"}, "medium", 128000),
    ],
)
async def test_a_reasoning_model_gets_reasoning_effort_and_max_completion_tokens(
    model, thinking, output_config, effort, limit
):
    reply = ChatReply("42", reasoning="Let me think about it.", chunk_size=5)
    extra = {"output_config": output_config} if output_config else {}
    async with running([reply], OPENAI_MODEL=model) as (fake, sdk):
        _, message = await stream_events(
            sdk,
            model="claude-opus-4-8",
            max_tokens=200000,
            messages=HELLO,
            thinking=thinking,
            **extra,
        )
    body = sent(fake)
    assert body["model"] == model
    assert body["reasoning_effort"] == effort
    assert body["max_completion_tokens"] == limit and "max_tokens" not in body
    assert "thinking" not in body and "output_config" not in body
    # reasoning_content comes back as a thinking block
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Let me think about it."


async def test_reasoning_effort_only_when_asked_and_only_for_reasoning_models():
    async with running([ChatReply("a"), ChatReply("b")], OPENAI_MODEL="o3-mini") as (fake, sdk):
        await sdk.messages.create(model="m", max_tokens=100, messages=HELLO)
    body = sent(fake)
    assert "reasoning_effort" not in body and body["max_completion_tokens"] == 100

    async with running([ChatReply("a")]) as (fake, sdk):  # gpt-4o
        await sdk.messages.create(
            model="m",
            max_tokens=3000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 2048},
        )
    body = sent(fake)
    assert "reasoning_effort" not in body and "thinking" not in body
    assert body["max_tokens"] == 3000


async def test_a_routed_reasoning_model_is_the_body_model_with_its_reasoning_fields():
    script = [ChatReply("fast"), ChatReply("default")]
    routes = "haiku=openai:o4-mini"
    async with running(script, LYNKR_MODEL_ROUTES=routes) as (fake, sdk):
        await stream_events(
            sdk,
            model="claude-haiku-4-5",
            max_tokens=64000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 5000},
        )
        await sdk.messages.create(model="claude-opus-4-8", max_tokens=20000, messages=HELLO)
    routed, default = sent(fake, 0), sent(fake, 1)
    assert fake.chat_requests[0].path == fake.chat_requests[1].path == "/v1/chat/completions"
    assert routed["model"] == "o4-mini" and routed["reasoning_effort"] == "medium"
    assert routed["max_completion_tokens"] == 64000 and "max_tokens" not in routed
    assert default["model"] == "gpt-4o" and default["max_tokens"] == 16384


TEXT_CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'


async def test_text_tool_calls_stay_text_by_default():
    async with running([ChatReply(TEXT_CALL, chunk_size=7)]) as (_, sdk):
        _, message = await stream_events(
            sdk, model="m", max_tokens=50, messages=HELLO, tools=[WEATHER]
        )
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == TEXT_CALL
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize("stream", [False, True])
async def test_text_tool_calls_become_tool_use_when_turned_on(stream):
    reply = ChatReply("Sure. " + TEXT_CALL, chunk_size=7)
    async with running([reply], OPENAI_TEXT_TOOL_CALLS="true") as (_, sdk):
        request = dict(model="m", max_tokens=50, messages=HELLO, tools=[WEATHER])
        if stream:
            _, message = await stream_events(sdk, **request)
        else:
            message = await sdk.messages.create(**request)
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.content[0].text == "Sure. "
    assert (message.content[1].name, message.content[1].input) == ("get_weather", {"city": "Oslo"})
    assert message.stop_reason == "tool_use"


async def test_max_output_tokens_clamps_max_tokens():
    script = [ChatReply("a"), ChatReply("b")]
    async with running(script, OPENAI_MAX_OUTPUT_TOKENS="1000") as (fake, sdk):
        await sdk.messages.create(model="m", max_tokens=5000, messages=HELLO)
        await sdk.messages.create(model="m", max_tokens=300, messages=HELLO)
    assert sent(fake, 0)["max_tokens"] == 1000
    assert sent(fake, 1)["max_tokens"] == 300


async def test_output_config_json_schema_becomes_response_format():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    async with running([ChatReply('{"answer": 42}')]) as (fake, sdk):
        message = await sdk.messages.create(
            model="m",
            max_tokens=50,
            messages=HELLO,
            output_config={"format": {"type": "json_schema", "schema": schema}},
        )
    assert json.loads(message.content[0].text) == {"answer": 42}
    body = sent(fake)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "output",
            "schema": {
                "type": "object",
                "properties": {"answer": {"type": "integer"}},
                "required": ["answer"],
                "additionalProperties": False,
            },
        },
    }
    assert "output_config" not in body


@pytest.mark.parametrize(("endpoint", "setting", "sent"), [
    ("https://api.openai.com/v1/chat/completions", None, True),
    ("http://vllm.internal:8000/v1/chat/completions", None, False),  # may refuse the field
    ("http://vllm.internal:8000/v1/chat/completions", True, True),
    ("https://api.openai.com/v1/chat/completions", False, False),
])
def test_prompt_cache_key_by_default_only_toward_openai(endpoint, setting, sent):
    assert _provider(endpoint=endpoint, prompt_cache_key=setting).options.prompt_cache_key is sent
