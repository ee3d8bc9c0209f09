"""lynkr-provider-ollama: the upstream failures only Ollama has (the shared ones are the
conformance suite's, ``test_conformance.py``)."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_ollama import OllamaError, OllamaReply

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


async def test_error_line_before_any_content_is_retried(gateway):
    script = [OllamaError(500, "model runner crashed", in_stream=True), OllamaReply("clean")]
    async with gateway(script, **RETRIES_ON) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
            message = await stream.get_final_message()
    assert message.content[0].text == "clean"
    assert len(gw.fake.chat_requests) == 2


async def test_slow_first_byte_past_the_timeout_is_a_504(gateway):
    async with gateway([OllamaReply("late", first_byte_delay=1.0)], OLLAMA_TIMEOUT_MS="200") as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 504
    assert caught.value.body["error"]["type"] == "timeout_error"
