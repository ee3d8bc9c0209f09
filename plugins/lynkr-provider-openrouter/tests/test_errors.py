"""lynkr-provider-openrouter: upstream failures as the client sees them."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ChatReply, CutStream, ErrorReply
from lynkr_core.testing.server import free_port

HELLO = [{"role": "user", "content": "hello"}]
RETRIES_ON = {"LYNKR_UPSTREAM_RETRIES": "2"}


async def test_a_wrong_key_is_a_401_with_openrouters_message(gateway):
    async with gateway(OPENROUTER_API_KEY="sk-or-v1-revoked") as gw:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.body["error"] == {
        "type": "authentication_error",
        "message": "User not found.",
    }
    assert gw.fake.chat_requests[0].headers["authorization"] == "Bearer sk-or-v1-revoked"


async def test_429_keeps_status_type_message_and_retry_after(gateway):
    error = ErrorReply(429, "Rate limit exceeded: free-models-per-min.", retry_after=7)
    async with gateway([error]) as gw:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.body["error"] == {
        "type": "rate_limit_error",
        "message": "Rate limit exceeded: free-models-per-min.",
    }
    assert caught.value.response.headers["retry-after"] == "7"
    assert len(gw.fake.chat_requests) == 1


async def test_429_with_a_long_retry_after_is_not_retried_even_with_retries_on(gateway):
    async with gateway([ErrorReply(429, "slow down", retry_after=30)], **RETRIES_ON) as gw:
        with pytest.raises(anthropic.RateLimitError):
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert len(gw.fake.chat_requests) == 1  # the client waits, lynkr does not


async def test_400_message_reaches_the_client_verbatim(gateway):
    message = (
        "This endpoint's maximum context length is 128000 tokens. However, you requested "
        "about 130512 tokens. Please reduce the length of either one."
    )
    async with gateway([ErrorReply(400, message)], **RETRIES_ON) as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "invalid_request_error", "message": message}
    assert len(gw.fake.chat_requests) == 1  # a 400 is never retried


async def test_raw_provider_message_from_metadata_is_kept(gateway):
    error = ErrorReply(
        400,
        "Provider returned error",
        metadata={"provider_name": "Azure", "raw": "invalid tool schema"},
    )
    async with gateway([error]) as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["message"] == "Provider returned error (invalid tool schema)"


@pytest.mark.parametrize("stream", [False, True])
async def test_5xx_is_retried_then_succeeds(gateway, stream):
    script = [
        ErrorReply(502, "bad gateway"),
        ErrorReply(503, "no capacity"),
        ChatReply("recovered"),
    ]
    async with gateway(script, **RETRIES_ON) as gw:
        if stream:
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "recovered"
    assert len(gw.fake.chat_requests) == 3


async def test_5xx_without_retries_is_passed_on(gateway):
    async with gateway([ErrorReply(503, "no capacity")]) as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 503
    assert caught.value.body["error"] == {"type": "overloaded_error", "message": "no capacity"}


async def test_error_chunk_mid_stream_is_an_error_event_with_the_upstream_message(
    gateway, parse_sse
):
    error = ErrorReply(
        502, "Provider disconnected mid-answer", in_stream=True, partial="Half an ans"
    )
    async with gateway([error, error]) as gw:
        with pytest.raises(anthropic.APIStatusError, match="Provider disconnected mid-answer"):
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
                async for _ in stream:
                    pass
        status, _, text = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    events = parse_sse(text)
    assert status == 200
    assert [name for name, _ in events][:3] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
    ]
    assert events[-1] == (
        "error",
        {
            "type": "error",
            "error": {"type": "api_error", "message": "Provider disconnected mid-answer"},
        },
    )
    assert "message_stop" not in [name for name, _ in events]


@pytest.mark.parametrize("abort", [True, False])
async def test_a_cut_stream_ends_with_an_error_event(gateway, parse_sse, abort):
    async with gateway([CutStream(after_chunks=3, abort=abort)]) as gw:
        status, _, text = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    events = parse_sse(text)
    names = [name for name, _ in events]
    assert status == 200
    assert names[0] == "message_start" and "content_block_delta" in names
    assert names[-1] == "error" and "message_stop" not in names
    assert events[-1][1]["error"]["type"] == "api_error"


async def test_unreachable_upstream_is_a_502(gateway):
    endpoint = f"http://127.0.0.1:{free_port()}/api/v1/chat/completions"
    async with gateway(OPENROUTER_ENDPOINT=endpoint) as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "cannot connect" in caught.value.body["error"]["message"]
    assert endpoint in caught.value.body["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_missing_api_key_is_a_500_naming_the_variable(gateway, stream):
    async with gateway(OPENROUTER_API_KEY="") as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            if stream:
                async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as s:
                    await s.get_final_message()
            else:
                await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 500
    assert "OPENROUTER_API_KEY" in caught.value.body["error"]["message"]
    assert gw.fake.chat_requests == []


async def test_missing_model_is_a_500_naming_the_variable(gateway):
    async with gateway(OPENROUTER_MODEL="") as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert "OPENROUTER_MODEL" in caught.value.body["error"]["message"]
    assert gw.fake.chat_requests == []
