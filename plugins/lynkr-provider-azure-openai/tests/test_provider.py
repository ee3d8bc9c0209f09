"""lynkr-provider-azure-openai, driven by the official anthropic SDK through a running lynkr
to a scripted upstream that speaks Azure OpenAI (``FakeOpenAI``, dialect azure).

The behaviours every provider shows run from the conformance suite (``TestConformance``);
the tests here are Azure's own: deployments, endpoint forms, content filters, its messages."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from lynkr_provider_azure_openai.config import AzureOpenAISettings
from lynkr_provider_azure_openai.provider import AzureOpenAIProvider, chat_url

from lynkr_core import Settings
from lynkr_core.testing.conformance import MissingSetting, ProviderConformance, ProviderProfile
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import (
    CLAUDE_CODE_FIXTURES,
    Harness,
    assert_only_credential,
    claude_code_headers,
    stream_events,
)
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.upstream_scripts import OpenAIScripting

UPSTREAM_KEY = "azure-resource-key-0123456789"
CLIENT_KEY = "sk-ant-client-key-never-forwarded"
DEPLOYMENT = "prod-chat"  # not a model name: limits come from the plugin's default
NO_RETRIES = {"LYNKR_UPSTREAM_RETRIES": "0"}

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "array"}},
        "required": ["city"],
    },
}
HELLO = [{"role": "user", "content": "hello"}]


def azure_env(base_url: str, **extra: str) -> dict[str, str]:
    """An app whose endpoint is the fake's resource URL."""
    return {
        "MODEL_PROVIDER": "azure-openai",
        "AZURE_OPENAI_ENDPOINT": base_url,
        "AZURE_OPENAI_API_KEY": UPSTREAM_KEY,
        "AZURE_OPENAI_DEPLOYMENT": DEPLOYMENT,
        **NO_RETRIES,
        **extra,
    }


HARNESS = Harness(azure_env, client_key=CLIENT_KEY)


def fake_azure(script: list[Any], *, deployment: str | None = DEPLOYMENT) -> FakeOpenAI:
    """A scripted fake Azure resource with one ``deployment`` (any, when None)."""
    return FakeOpenAI(script, dialect="azure", api_key=UPSTREAM_KEY, deployment=deployment)


def running(script: list[Any], *, deployment: str | None = DEPLOYMENT, **env: str):
    """A scripted fake Azure resource with one ``deployment``, lynkr in front of it, a client:
    ``(fake, sdk)``. ``{base}`` in an ``env`` value stands for the fake's base URL."""
    return HARNESS.run(fake_azure(script, deployment=deployment), **env)


def sent(fake: FakeOpenAI, index: int = 0) -> dict[str, Any]:
    """The body of a recorded chat request, checked against the openai SDK's types."""
    body = fake.chat_requests[index].json
    assert_valid_chat_request(body)
    return body


def assert_only_upstream_credentials(headers: dict[str, str]) -> None:
    """Azure's ``api-key`` header with the resource key; no other credential."""
    assert_only_credential(headers, "api-key", UPSTREAM_KEY, CLIENT_KEY)


# --------------------------------------------------------------------------- conformance


class TestConformance(ProviderConformance):
    """The behaviours every provider shows, against the fake Azure resource."""

    @pytest.fixture
    def provider_profile(self) -> ProviderProfile:
        """Azure OpenAI: the resource endpoint and its key are required."""
        return ProviderProfile(
            harness=HARNESS,
            fake=fake_azure,
            scripting=OpenAIScripting(),
            missing_settings=[
                MissingSetting.unset("AZURE_OPENAI_ENDPOINT"),
                MissingSetting.unset("AZURE_OPENAI_API_KEY"),
                MissingSetting.unset("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"),
            ],
        )


# --------------------------------------------------------------------------- round trips


async def test_the_exact_request_to_the_deployment_url():
    async with running([ChatReply("Hello from Azure.")]) as (fake, sdk):
        await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=700, messages=HELLO)
    request = fake.chat_requests[0]
    assert request.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert_only_upstream_credentials(request.headers)
    assert sent(fake) == {
        "model": DEPLOYMENT,
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 700,
        "stream": False,
    }


async def test_streamed_cached_usage_is_reported_apart():
    reply = ChatReply("Azure streams text in pieces.", chunk_size=3, usage=(50, 7, 20))
    async with running([reply]) as (fake, sdk):
        _, message = await stream_events(sdk, model="m", max_tokens=100, messages=HELLO)
    assert message.usage.input_tokens == 30 and message.usage.cache_read_input_tokens == 20
    assert message.usage.output_tokens == 7
    body = sent(fake)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_tool_call_round_trip():
    reply = ChatReply(tool_calls=[ToolCallSpec("get_weather", {"city": "Lyon"}, id="call_az1")])
    async with running([reply]) as (fake, sdk):
        message = await sdk.messages.create(
            model="m", max_tokens=100, messages=HELLO, tools=[WEATHER], tool_choice={"type": "any"}
        )
    assert [(b.type, b.id, b.input) for b in message.content] == [
        ("tool_use", "call_az1", {"city": "Lyon"})
    ]
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
    assert body["tool_choice"] == "required"


async def test_tool_history_becomes_tool_calls_and_a_tool_message():
    history = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_7",
                    "name": "get_weather",
                    "input": {"city": "Nice"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_7",
                    "content": "timeout",
                    "is_error": True,
                }
            ],
        },
    ]
    async with running([ChatReply("Sorry, the tool failed.")]) as (fake, sdk):
        await sdk.messages.create(model="m", max_tokens=100, messages=history, tools=[WEATHER])
    assert sent(fake)["messages"][1:] == [
        {
            "role": "assistant",  # no content key: only tool calls
            "tool_calls": [
                {
                    "id": "toolu_7",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Nice"}'},
                }
            ],
        },
        {"role": "tool", "content": "Error: timeout", "tool_call_id": "toolu_7"},
    ]


# --------------------------------------------------------------------------- endpoint forms


@pytest.mark.parametrize(
    ("endpoint", "path", "query", "model"),
    [
        # the resource URL: the deployment path, and the configured api-version
        (
            "{base}",
            f"/openai/deployments/{DEPLOYMENT}/chat/completions",
            {"api-version": "2025-04-01-preview"},
            DEPLOYMENT,
        ),
        # a full URL is used as it is
        (
            "{base}/openai/deployments/" + DEPLOYMENT + "/chat/completions?api-version=2024-06-01",
            f"/openai/deployments/{DEPLOYMENT}/chat/completions",
            {"api-version": "2024-06-01"},
            DEPLOYMENT,
        ),
        # a full URL without api-version gets the configured one
        (
            "{base}/openai/deployments/" + DEPLOYMENT + "/chat/completions",
            f"/openai/deployments/{DEPLOYMENT}/chat/completions",
            {"api-version": "2025-04-01-preview"},
            DEPLOYMENT,
        ),
        # the v1 API: no api-version, the deployment goes in the body as the model
        ("{base}/openai/v1", "/openai/v1/chat/completions", {}, DEPLOYMENT),
        ("{base}/openai/v1/", "/openai/v1/chat/completions", {}, DEPLOYMENT),
    ],
)
async def test_the_three_endpoint_forms(endpoint, path, query, model):
    async with running(
        [ChatReply("ok")],
        AZURE_OPENAI_ENDPOINT=endpoint,
        AZURE_OPENAI_API_VERSION="2025-04-01-preview",
    ) as (fake, sdk):
        message = await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "ok"
    request = fake.chat_requests[0]
    assert (request.path, request.query) == (path, query)
    assert sent(fake)["model"] == model
    assert_only_upstream_credentials(request.headers)


def test_chat_url_forms():
    resource = "https://res.openai.azure.com"
    assert (
        chat_url(resource, "d 1", "v")
        == f"{resource}/openai/deployments/d%201/chat/completions?api-version=v"
    )
    assert (
        chat_url(resource + "/openai/", "d", "v")
        == f"{resource}/openai/deployments/d/chat/completions?api-version=v"
    )
    assert chat_url(resource + "/openai/v1", "d", "v") == f"{resource}/openai/v1/chat/completions"
    full = f"{resource}/openai/deployments/d/chat/completions?api-version=x"
    assert chat_url(full, "d", "v") == full
    routed = chat_url(full, "mini", "v")
    assert routed == f"{resource}/openai/deployments/mini/chat/completions?api-version=x"


def test_a_full_deployment_url_names_the_configured_deployment():
    settings = AzureOpenAISettings(
        endpoint="https://res.openai.azure.com/openai/deployments/o3-mini/chat/completions",
        api_key="k",
    )
    provider = AzureOpenAIProvider(settings, Settings({}))
    assert provider.model == "o3-mini"  # not the default "gpt-4o"
    assert provider.url.endswith(
        "/openai/deployments/o3-mini/chat/completions?api-version=2024-10-21"
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "{base}",
        "{base}/openai/deployments/" + DEPLOYMENT + "/chat/completions?api-version=2024-10-21",
    ],
)
async def test_a_routed_model_posts_to_that_deployment(endpoint):
    async with running(
        [ChatReply("from mini")],
        deployment="gpt-4o-mini",
        AZURE_OPENAI_ENDPOINT=endpoint,
        LYNKR_MODEL_ROUTES="haiku=azure-openai:gpt-4o-mini",
    ) as (fake, sdk):
        message = await sdk.messages.create(
            model="claude-haiku-4-5", max_tokens=20000, messages=HELLO
        )
    assert message.content[0].text == "from mini"
    request = fake.chat_requests[0]
    assert request.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    body = sent(fake)
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 16384


async def test_a_routed_model_on_the_v1_api_is_the_body_model():
    async with running(
        [ChatReply("v1 mini")],
        deployment="gpt-4o-mini",
        AZURE_OPENAI_ENDPOINT="{base}/openai/v1",
        LYNKR_MODEL_ROUTES="haiku=azure-openai:gpt-4o-mini",
    ) as (fake, sdk):
        await sdk.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HELLO)
    assert fake.chat_requests[0].path == "/openai/v1/chat/completions"
    assert sent(fake)["model"] == "gpt-4o-mini"


async def test_an_unknown_deployment_is_a_404_with_azures_message():
    async with running([], deployment="other", **{"AZURE_OPENAI_DEPLOYMENT": "missing"}) as (
        _,
        sdk,
    ):
        with pytest.raises(anthropic.NotFoundError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert "deployment for this resource does not exist" in caught.value.body["error"]["message"]


# --------------------------------------------------------------------------- azure specifics


@pytest.mark.parametrize("stream", [False, True])
async def test_content_filter_finish_is_a_refusal(stream):
    reply = ChatReply("I can", chunk_size=2, content_filter=True)
    async with running([reply]) as (_, sdk):
        if stream:
            _, message = await stream_events(sdk, model="m", max_tokens=10, messages=HELLO)
        else:
            message = await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.stop_reason == "refusal"
    assert message.content[0].text == "I can"


@pytest.mark.parametrize(
    ("env", "requested", "expected"),
    [
        ({}, 64000, 16384),  # the default clamp, for a deployment name lynkr cannot look up
        ({}, 1200, 1200),
        ({"AZURE_OPENAI_MAX_OUTPUT_TOKENS": "4000"}, 64000, 4000),
    ],
)
async def test_max_tokens_clamp(env, requested, expected):
    async with running([ChatReply("ok")], **env) as (fake, sdk):
        await stream_events(sdk, model="m", max_tokens=requested, messages=HELLO)
    assert sent(fake)["max_tokens"] == expected


async def test_a_reasoning_deployment_gets_reasoning_effort_and_max_completion_tokens():
    async with running(
        [ChatReply("ok")], deployment="o3-mini", AZURE_OPENAI_DEPLOYMENT="o3-mini"
    ) as (fake, sdk):
        await stream_events(
            sdk,
            model="m",
            max_tokens=64000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 8000},
        )
    body = sent(fake)
    assert body["reasoning_effort"] == "medium"
    assert body["max_completion_tokens"] == 16384 and "max_tokens" not in body
    assert "thinking" not in body


# --------------------------------------------------------------------------- errors


async def test_a_wrong_key_is_a_401_with_azures_message():
    async with running([], AZURE_OPENAI_API_KEY="wrong-key") as (fake, sdk):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["type"] == "authentication_error"
    assert caught.value.body["error"]["message"].startswith(
        "Access denied due to invalid subscription key"
    )
    assert fake.chat_requests[0].headers["api-key"] == "wrong-key"


@pytest.mark.parametrize("turn", ["turn1", "turn2"])
async def test_a_real_claude_code_request_translates_and_streams_back(turn):
    raw = (CLAUDE_CODE_FIXTURES / f"{turn}.json").read_bytes()
    reply = ChatReply("All done here.", chunk_size=3)
    fake = FakeOpenAI([reply], dialect="azure", api_key=UPSTREAM_KEY, deployment=DEPLOYMENT)
    async with HARNESS.run(fake) as gw:
        status, events = await gw.post_sse(raw, claude_code_headers())
    names = [name for name, _ in events]
    assert status == 200
    assert names[0] == "message_start" and names[-1] == "message_stop" and "error" not in names
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert text == "All done here."

    body = sent(fake)
    assert_only_upstream_credentials(fake.chat_requests[0].headers)
    assert not [
        name for name in fake.chat_requests[0].headers if name.startswith(("anthropic", "x-"))
    ]
    assert body["max_tokens"] == 16384 and body["stream"] is True
    assert "Write" in {tool["function"]["name"] for tool in body["tools"]}
    for absent in (
        "thinking",
        "reasoning_effort",
        "context_management",
        "output_config",
        "metadata",
    ):
        assert absent not in body
    if turn == "turn2":
        roles = [message["role"] for message in body["messages"]]
        assert roles[-2:] == ["assistant", "tool"]
        assert body["messages"][-1]["tool_call_id"] == body["messages"][-2]["tool_calls"][0]["id"]
