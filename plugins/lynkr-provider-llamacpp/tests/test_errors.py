"""lynkr-provider-llamacpp: the upstream failures only llama-server has (the shared ones are
the conformance suite's, ``test_conformance.py``)."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ChatReply

HELLO = [{"role": "user", "content": "hello"}]


async def test_a_wrong_key_is_a_401_with_the_servers_message(gateway):
    async with gateway(key="right-key", LLAMACPP_API_KEY="wrong-key") as gw:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.body["error"] == {
        "type": "authentication_error",
        "message": "Invalid API Key",
    }


async def test_loading_model_503_is_passed_on_without_retries(gateway):
    async with gateway(loading=True) as gw:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 503
    assert caught.value.body["error"] == {"type": "overloaded_error", "message": "Loading model"}


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
