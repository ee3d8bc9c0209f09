"""lynkr-provider-anthropic, driven by the official anthropic SDK through a running lynkr
to a scripted upstream that speaks Anthropic's wire format."""

from __future__ import annotations

import asyncio

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import CutStream, ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.server import free_port, make_test_app, serving

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
    return {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",  # these tests see each upstream answer passed on
        **extra,
    }


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


@pytest.mark.parametrize(
    ("status", "sdk_error", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
    ],
)
async def test_upstream_errors_keep_their_status_type_and_message(client, upstream, status, sdk_error, error_type):
    upstream._script.append(ErrorReply(status, message=f"upstream says {status}", retry_after=3))
    with pytest.raises(sdk_error) as caught:
        await client.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == status
    assert caught.value.body["error"] == {"type": error_type, "message": f"upstream says {status}"}
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.response.headers["request-id"].startswith("req_")


async def test_error_event_inside_a_stream_reaches_the_client(client, upstream):
    upstream._script.append(ErrorReply(529, message="overloaded mid-stream", in_stream=True))
    with pytest.raises(anthropic.APIStatusError, match="overloaded mid-stream"):
        async with client.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
            async for _ in stream:
                pass


@pytest.mark.parametrize("abort", [True, False])
async def test_a_cut_upstream_stream_ends_with_an_error_event(upstream, abort):
    upstream._script.append(CutStream(deltas=2, abort=abort))
    async with serving(make_test_app(direct_env(upstream.base_url))) as url:
        async with aiohttp.ClientSession() as http:
            body = {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
            async with http.post(f"{url}/v1/messages", json=body) as response:
                assert response.status == 200
                text = (await response.read()).decode()
    assert text.startswith("event: message_start")
    assert text.rstrip().splitlines()[-2] == "event: error"
    assert "event: message_stop" not in text


async def test_unreachable_upstream_is_a_502_api_error():
    env = direct_env(f"http://127.0.0.1:{free_port()}")
    async with serving(make_test_app(env)) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as sdk:
            with pytest.raises(anthropic.APIStatusError) as caught:
                await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "cannot connect" in caught.value.body["error"]["message"]


async def test_client_disconnect_mid_stream_cancels_the_upstream_request(upstream):
    upstream._script.append(Reply.text("word " * 200, chunk_size=5, delay=0.05))
    async with serving(make_test_app(direct_env(upstream.base_url))) as url:
        async with aiohttp.ClientSession() as http:
            body = {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
            async with http.post(f"{url}/v1/messages", json=body) as response:
                await response.content.readuntil(b"content_block_delta")
        for _ in range(50):  # the upstream sees its client leave well within a second
            if upstream.message_requests[0].disconnected:
                break
            await asyncio.sleep(0.02)
    assert upstream.message_requests[0].disconnected


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


async def test_azure_anthropic_without_endpoint_says_what_to_set():
    env = {"MODEL_PROVIDER": "azure-anthropic", "AZURE_ANTHROPIC_API_KEY": "k"}
    async with serving(make_test_app(env)) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as sdk:
            with pytest.raises(anthropic.InternalServerError, match="AZURE_ANTHROPIC_ENDPOINT"):
                await sdk.messages.create(model="m", max_tokens=10, messages=HELLO)


async def test_models_come_from_the_upstream(client):
    page = await client.models.list()
    assert [m.id for m in page.data]  # the fake lists its models
    assert all(m.type == "model" for m in page.data)
