"""lynkr-provider-ollama: upstream failures as the client sees them."""

from __future__ import annotations

import asyncio

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.fake_ollama import OllamaCut, OllamaError, OllamaReply
from lynkr_core.testing.server import free_port

HELLO = [{"role": "user", "content": "hello"}]
RETRIES_ON = {"LYNKR_UPSTREAM_RETRIES": "2"}


async def test_unknown_model_404_message_reaches_the_client(gateway):
    async with gateway(OLLAMA_MODEL="llama3.3:70b") as gw:
        with pytest.raises(anthropic.NotFoundError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {
        "type": "not_found_error",
        "message": 'model "llama3.3:70b" not found, try pulling it first',
    }


async def test_401_from_a_proxy_in_front_of_ollama(gateway):
    async with gateway([OllamaError(401, "unauthorized")], **RETRIES_ON) as gw:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "authentication_error", "message": "unauthorized"}
    assert len(gw.fake.chat_requests) == 1


async def test_429_keeps_status_type_and_message(gateway):
    # FakeOllama sends no Retry-After (Ollama itself never does): only status and message
    async with gateway(
        [OllamaError(429, "server busy, please try again.  maximum pending requests exceeded")]
    ) as gw:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.body["error"] == {
        "type": "rate_limit_error",
        "message": "server busy, please try again.  maximum pending requests exceeded",
    }
    assert "retry-after" not in caught.value.response.headers


async def test_400_message_reaches_the_client_verbatim(gateway):
    message = "registry.ollama.ai/library/qwen2.5-coder:7b does not support tools"
    async with gateway([OllamaError(400, message)], **RETRIES_ON) as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"] == {"type": "invalid_request_error", "message": message}
    assert len(gw.fake.chat_requests) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_5xx_is_retried_then_succeeds(gateway, stream):
    script = [
        OllamaError(500, "llama runner process has terminated: exit status 2"),
        OllamaReply("back", chunk_size=2),
    ]
    async with gateway(script, **RETRIES_ON) as gw:
        if stream:
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert message.content[0].text == "back"
    assert len(gw.fake.chat_requests) == 2


async def test_error_line_mid_stream_is_an_error_event(gateway, parse_sse):
    error = OllamaError(
        500,
        "an error was encountered while running the model: out of memory",
        in_stream=True,
        partial="Some words",
    )
    async with gateway([error, error]) as gw:
        with pytest.raises(anthropic.APIStatusError, match="out of memory"):
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
                async for _ in stream:
                    pass
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    events = parse_sse(raw)
    assert status == 200
    assert events[0][0] == "message_start"
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["type"] == "api_error"
    assert "out of memory" in events[-1][1]["error"]["message"]
    assert "message_stop" not in [name for name, _ in events]


async def test_error_line_before_any_content_is_retried(gateway):
    script = [OllamaError(500, "model runner crashed", in_stream=True), OllamaReply("clean")]
    async with gateway(script, **RETRIES_ON) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
            message = await stream.get_final_message()
    assert message.content[0].text == "clean"
    assert len(gw.fake.chat_requests) == 2


@pytest.mark.parametrize("abort", [True, False])
async def test_a_cut_stream_ends_with_an_error_event(gateway, parse_sse, abort):
    async with gateway([OllamaCut(after_lines=3, abort=abort)]) as gw:
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    names = [name for name, _ in parse_sse(raw)]
    assert status == 200
    assert names[0] == "message_start" and "content_block_delta" in names
    assert names[-1] == "error" and "message_stop" not in names


async def test_unreachable_ollama_is_a_502(gateway):
    async with gateway(OLLAMA_ENDPOINT=f"http://127.0.0.1:{free_port()}") as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "cannot connect" in caught.value.body["error"]["message"]


async def test_slow_first_byte_past_the_timeout_is_a_504(gateway):
    async with gateway([OllamaReply("late", first_byte_delay=1.0)], OLLAMA_TIMEOUT_MS="200") as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 504
    assert caught.value.body["error"]["type"] == "timeout_error"


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"OLLAMA_ENDPOINT": ""}, "OLLAMA_ENDPOINT"), ({"OLLAMA_MODEL": ""}, "OLLAMA_MODEL")],
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


async def test_client_disconnect_mid_stream_closes_the_upstream_request(gateway):
    reply = OllamaReply("word " * 200, chunk_size=5, delay=0.05)
    async with gateway([reply]) as gw:
        body = {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        headers = {"x-api-key": gw.client_key}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{gw.url}/v1/messages", json=body, headers=headers) as response:
                await response.content.readuntil(b"content_block_delta")
        for _ in range(50):  # the upstream sees its client leave well within a second
            if gw.fake.chat_requests[0].disconnected:
                break
            await asyncio.sleep(0.02)
    assert gw.fake.chat_requests[0].disconnected
