"""OpenAI-format streams: pings while the upstream is silent, and clients that leave."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest

from lynkr_core.testing.fake_ollama import FakeOllama, OllamaReply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.server import make_test_app, serving

BODY = b'{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}'


async def _events(url: str) -> list[str]:
    async with aiohttp.ClientSession() as http, http.post(
        url + "/v1/messages", data=BODY, headers={"content-type": "application/json"}
    ) as response:
        assert response.status == 200
        raw = (await response.read()).decode()
    return [line.removeprefix("event: ") for line in raw.splitlines() if line.startswith("event: ")]


async def _run(app, provider: str) -> list[str]:
    app.state.pipeline.providers.get(provider).ping_interval = 0.05
    async with serving(app) as url:
        return await _events(url)


async def test_pings_while_an_openai_upstream_is_silent():
    reply = ChatReply("slow answer", chunk_size=5, first_byte_delay=0.2, delay=0.15)
    async with FakeOpenAI([reply]) as fake:
        env = {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": fake.base_url + "/v1/chat/completions"}
        names = await _run(make_test_app(env), "openai")
    assert names[0] == "message_start" and names[1] == "ping"  # start goes out with the first ping
    assert names.count("ping") >= 3
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_delta") == 3


async def test_no_pings_when_the_upstream_is_prompt():
    async with FakeOpenAI([ChatReply("quick", chunk_size=1)]) as fake:
        env = {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": fake.base_url + "/v1/chat/completions"}
        names = await _run(make_test_app(env), "openai")
    assert "ping" not in names and names[-1] == "message_stop"


async def test_pings_while_ollama_is_silent():
    async with FakeOllama([OllamaReply("slow answer", chunk_size=4, delay=0.15)]) as fake:
        env = {"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": fake.base_url}
        names = await _run(make_test_app(env), "ollama")
    assert "ping" in names
    assert names[-1] == "message_stop"


async def _disconnect_after(url: str, seconds: float, started=lambda: True) -> None:
    """Send a streaming request, read what comes, and drop the connection ``seconds`` after
    ``started()`` holds (whether or not the answer had started)."""

    async def read() -> None:
        async with aiohttp.ClientSession() as http, http.post(
            url + "/v1/messages", data=BODY, headers={"content-type": "application/json"}
        ) as response:
            await response.read()

    task = asyncio.create_task(read())
    await _wait_for(started, seconds=10)  # a loaded machine may take a while to get there
    await asyncio.sleep(seconds)
    task.cancel()  # aiohttp closes the connection of a cancelled request
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _wait_for(condition, seconds: float = 2.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


@pytest.mark.parametrize(
    ("reply", "when"),
    [
        (ChatReply("never seen", first_byte_delay=5), "before the first byte"),
        (ChatReply("a slow answer in many parts", chunk_size=2, delay=0.2), "mid-stream"),
    ],
)
async def test_a_client_that_leaves_cancels_the_upstream_request(reply, when):
    async with FakeOpenAI([reply, ChatReply("still serving")]) as fake:
        env = {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": fake.base_url + "/v1/chat/completions"}
        async with serving(make_test_app(env)) as url:
            await _disconnect_after(url, 0.5, started=lambda: bool(fake.chat_requests))
            assert await _wait_for(lambda: fake.chat_requests[0].disconnected), when
            names = await _events(url)
    assert names[-1] == "message_stop"
