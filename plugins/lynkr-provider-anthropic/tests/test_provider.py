"""lynkr-provider-anthropic, driven by the official anthropic SDK through a running lynkr
to a scripted upstream that speaks Anthropic's wire format.

The behaviours every provider shows run from the conformance suite, for both providers of
the plugin (``TestAnthropicConformance``, ``TestAzureAnthropicConformance``); the tests here
are the pass-through's own: unknown fields and headers, thinking, count_tokens, models."""

from __future__ import annotations

import asyncio

import aiohttp
import anthropic
import pytest
from aiohttp import web

from lynkr_core.testing.conformance import MissingSetting, ProviderConformance, ProviderProfile
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.gateway import Harness
from lynkr_core.testing.scripted import ScriptedServer
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.testing.upstream_scripts import AnthropicScripting

UPSTREAM_KEY = "sk-upstream-operator"

TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def upstream():
    async with FakeAnthropic(api_key=UPSTREAM_KEY) as fake:
        yield fake


def direct_env(url: str, **extra: str) -> dict[str, str]:
    """``MODEL_PROVIDER=anthropic`` against an upstream at ``url``."""
    return {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",  # these tests see each upstream answer passed on
        **extra,
    }


def azure_env(url: str, **extra: str) -> dict[str, str]:
    """``MODEL_PROVIDER=azure-anthropic`` against a Foundry resource at ``url``."""
    return {
        "MODEL_PROVIDER": "azure-anthropic",
        "AZURE_ANTHROPIC_ENDPOINT": f"{url}/anthropic/v1/messages",
        "AZURE_ANTHROPIC_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        **extra,
    }


# Anthropic says "overloaded" with a 529 (a 503 from it keeps the api_error type it came with)
OVERLOADED = 529
# FakeAnthropic's in-stream error event follows message_start directly: it has no way to
# send text before it (the text-less case still runs)
NO_TEXT_BEFORE_STREAM_ERROR = {
    "text_before_stream_error": "FakeAnthropic sends no text before an in-stream error",
}


class TestAnthropicConformance(ProviderConformance):
    """The behaviours every provider shows, for ``MODEL_PROVIDER=anthropic``."""

    @pytest.fixture
    def provider_profile(self) -> ProviderProfile:
        """The Anthropic API: the key in x-api-key."""
        return ProviderProfile(
            harness=Harness(direct_env),
            fake=lambda script: FakeAnthropic(script, api_key=UPSTREAM_KEY),
            scripting=AnthropicScripting(),
            overloaded_status=OVERLOADED,
            exempt={
                **NO_TEXT_BEFORE_STREAM_ERROR,
                # the base URL defaults to api.anthropic.com, and an upstream that needs no
                # key may be used without one
                "missing_setting": "every setting of the anthropic provider has a default",
            },
        )


class TestAzureAnthropicConformance(ProviderConformance):
    """The behaviours every provider shows, for ``MODEL_PROVIDER=azure-anthropic``."""

    @pytest.fixture
    def provider_profile(self) -> ProviderProfile:
        """Claude in Microsoft Foundry: the endpoint and its key (in api-key) are required."""
        return ProviderProfile(
            harness=Harness(azure_env),
            fake=lambda script: FakeAnthropic(script, api_key=UPSTREAM_KEY, auth_header="api-key"),
            scripting=AnthropicScripting(),
            missing_settings=[
                MissingSetting.unset("AZURE_ANTHROPIC_ENDPOINT"),
                MissingSetting.unset("AZURE_ANTHROPIC_API_KEY"),
            ],
            overloaded_status=OVERLOADED,
            exempt=NO_TEXT_BEFORE_STREAM_ERROR,
        )


@pytest.fixture
async def client(upstream):
    async with serving(make_test_app(direct_env(upstream.base_url))) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="client", max_retries=0) as sdk:
            yield sdk


async def test_create_passes_the_request_through_and_returns_the_message(client, upstream):
    upstream._script.append(Reply.text("Hi there, human."))
    message = await client.messages.create(
        model="claude-opus-4-8",
        max_tokens=100,
        messages=HELLO,
        extra_body={"future_field": {"nested": [1, 2]}},
        extra_headers={"anthropic-beta": "some-future-beta-2031-01-01"},
    )
    assert message.content[0].text == "Hi there, human."
    assert message.stop_reason == "end_turn"
    sent = upstream.message_requests[0]
    assert sent.json["future_field"] == {"nested": [1, 2]}  # unknown fields are not dropped
    assert sent.json["model"] == "claude-opus-4-8"
    assert sent.headers["x-api-key"] == UPSTREAM_KEY
    assert sent.headers["anthropic-beta"] == "some-future-beta-2031-01-01"


async def test_streamed_text_and_tool_use_equal_the_non_streamed_message(client, upstream):
    blocks = [
        {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig-abc"},
        {"type": "text", "text": "Let me check the weather in Paris for you."},
        {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Paris", "days": [1, 2]}},
    ]
    upstream._script.extend([Reply(blocks, chunk_size=5), Reply(blocks)])
    request = dict(model="claude-opus-4-8", max_tokens=200, messages=HELLO, tools=[TOOL])
    async with client.messages.stream(**request) as stream:
        kinds = [event.type async for event in stream]
        streamed = await stream.get_final_message()
    plain = await client.messages.create(**request)

    assert "input_json" in kinds and "text" in kinds
    assert streamed.model_dump(exclude={"id"}) == plain.model_dump(exclude={"id"})
    assert streamed.content[2].input == {"city": "Paris", "days": [1, 2]}
    assert streamed.content[0].signature == "sig-abc"
    assert streamed.stop_reason == "tool_use"


async def test_count_tokens_is_the_upstream_count(client, upstream):
    counted = await client.messages.count_tokens(model="claude-opus-4-8", messages=HELLO)
    recorded = [r for r in upstream.requests if r.path.endswith("/count_tokens")]
    assert len(recorded) == 1
    assert "max_tokens" not in recorded[0].json
    assert counted.input_tokens > 0


async def test_an_upstream_error_keeps_its_retry_after_and_request_id(client, upstream):
    upstream._script.append(ErrorReply(529, message="upstream says 529", retry_after=3))
    with pytest.raises(anthropic.InternalServerError) as caught:
        await client.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "overloaded_error", "message": "upstream says 529"}
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.response.headers["request-id"].startswith("req_")


async def test_client_disconnect_before_the_first_byte_cancels_the_upstream_request(upstream):
    upstream._script.append(Reply.text("late", first_byte_delay=5))
    async with serving(make_test_app(direct_env(upstream.base_url))) as url:
        body = {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": False}
        async with aiohttp.ClientSession() as http:
            with pytest.raises(asyncio.TimeoutError):
                await http.post(f"{url}/v1/messages", json=body, timeout=aiohttp.ClientTimeout(total=0.3))
        for _ in range(50):
            if upstream.message_requests and upstream.message_requests[0].disconnected:
                break
            await asyncio.sleep(0.02)
    assert upstream.message_requests[0].disconnected


async def test_azure_anthropic_uses_its_path_key_headers_and_model(upstream):
    env = {
        "MODEL_PROVIDER": "azure-anthropic",
        "AZURE_ANTHROPIC_ENDPOINT": f"{upstream.base_url}/anthropic/v1/messages",
        "AZURE_ANTHROPIC_API_KEY": UPSTREAM_KEY,
        "MODEL_DEFAULT": "claude-opus-4-5",
    }
    upstream._script.append(Reply.text("from azure"))
    async with serving(make_test_app(env)) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as sdk:
            message = await sdk.messages.create(model="claude-opus-4-8", max_tokens=10, messages=HELLO)
    sent = upstream.message_requests[0]
    assert message.content[0].text == "from azure"
    assert sent.path == "/anthropic/v1/messages"
    assert sent.headers["api-key"] == UPSTREAM_KEY and sent.headers["x-api-key"] == UPSTREAM_KEY
    assert sent.json["model"] == "claude-opus-4-5"


async def test_models_come_from_the_upstream(client):
    page = await client.models.list()
    assert [m.id for m in page.data]  # the fake lists its models
    assert all(m.type == "model" for m in page.data)


class _CountsNothing(ScriptedServer):
    """A Foundry-like resource whose ``count_tokens`` answers 200 without ``input_tokens``."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if request.path.endswith("/count_tokens"):
            return web.json_response({"type": "message_count", "usage": {}})
        return web.json_response({"type": "error", "error": {"type": "not_found_error", "message": "no"}}, status=404)


async def test_count_tokens_without_input_tokens_is_the_core_estimate_not_a_500():
    async with _CountsNothing(None) as upstream, Harness(azure_env).serve(azure_env(upstream.base_url)) as gw:
        counted = await gw.sdk.messages.count_tokens(model="claude-opus-4-8", messages=HELLO)
    assert 0 < counted.input_tokens < 50
    assert [r.path for r in upstream.requests] == ["/anthropic/v1/messages/count_tokens"]
