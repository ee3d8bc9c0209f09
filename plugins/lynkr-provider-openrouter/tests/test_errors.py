"""lynkr-provider-openrouter: the upstream failures only OpenRouter has (the shared ones are
the conformance suite's, ``test_conformance.py``; errors inside 200 answers are in
``test_openrouter.py``)."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ErrorReply

HELLO = [{"role": "user", "content": "hello"}]


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
