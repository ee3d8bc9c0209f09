"""lynkr-provider-llamacpp: upstream failures as the client sees them."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ChatReply, CutStream, ErrorReply
from lynkr_core.testing.server import free_port

HELLO = [{"role": "user", "content": "hello"}]
RETRIES_ON = {"LYNKR_UPSTREAM_RETRIES": "2"}


async def test_a_wrong_key_is_a_401_with_the_servers_message(gateway):
    async with gateway(key="right-key", LLAMACPP_API_KEY="wrong-key") as gw:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.body["error"] == {
        "type": "authentication_error",
        "message": "Invalid API Key",
    }


async def test_429_keeps_status_type_message_and_retry_after(gateway):
    error = ErrorReply(429, "too many parallel requests (slots busy)", retry_after=4)
    async with gateway([error]) as gw:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.body["error"] == {
        "type": "rate_limit_error",
        "message": "too many parallel requests (slots busy)",
    }
    assert caught.value.response.headers["retry-after"] == "4"


async def test_400_message_reaches_the_client_verbatim(gateway):
    message = "the request exceeds the available context size, try increasing it"
    async with gateway([ErrorReply(400, message)], **RETRIES_ON) as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "invalid_request_error", "message": message}
    assert len(gw.fake.chat_requests) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_5xx_is_retried_then_succeeds(gateway, stream):
    script = [ErrorReply(500, "slot crashed"), ChatReply("recovered", chunk_size=3)]
    async with gateway(script, **RETRIES_ON) as gw:
        if stream:
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "recovered"
    assert len(gw.fake.chat_requests) == 2


async def test_loading_model_503_is_passed_on_without_retries(gateway):
    async with gateway(loading=True) as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 503
    assert caught.value.body["error"] == {"type": "overloaded_error", "message": "Loading model"}


async def test_error_mid_stream_is_an_error_event(gateway, parse_sse):
    error = ErrorReply(500, "llama_decode failed", in_stream=True, partial="Some text")
    async with gateway([error, error]) as gw:
        with pytest.raises(anthropic.APIStatusError, match="llama_decode failed"):
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
                async for _ in stream:
                    pass
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    events = parse_sse(raw)
    assert status == 200
    assert events[0][0] == "message_start"
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": "llama_decode failed"}},
    )


@pytest.mark.parametrize("abort", [True, False])
async def test_a_cut_stream_ends_with_an_error_event(gateway, parse_sse, abort):
    async with gateway([CutStream(after_chunks=3, abort=abort)]) as gw:
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    names = [name for name, _ in parse_sse(raw)]
    assert status == 200
    assert names[0] == "message_start" and "content_block_delta" in names
    assert names[-1] == "error" and "message_stop" not in names


async def test_unreachable_server_is_a_502(gateway):
    async with gateway(LLAMACPP_ENDPOINT=f"http://127.0.0.1:{free_port()}") as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "cannot connect" in caught.value.body["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_slow_first_byte_past_the_timeout_is_a_504(gateway, stream):
    reply = ChatReply("too late", first_byte_delay=1.0)
    async with gateway([reply], LLAMACPP_TIMEOUT_MS="200") as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            if stream:
                async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as s:
                    await s.get_final_message()
            else:
                await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 504
    assert caught.value.body["error"]["type"] == "timeout_error"
    assert "timed out" in caught.value.body["error"]["message"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"LLAMACPP_ENDPOINT": ""}, "LLAMACPP_ENDPOINT"), ({"LLAMACPP_MODEL": ""}, "LLAMACPP_MODEL")],
)
async def test_missing_setting_is_a_500_naming_the_variable(gateway, env, variable):
    async with gateway(**env) as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
        health = await gw.check()
    assert caught.value.status_code == 500
    assert variable in caught.value.body["error"]["message"]
    assert not health.ok and variable in health.detail
    assert gw.fake.chat_requests == []
