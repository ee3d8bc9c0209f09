"""Load shedding through a real lynkr: past the active-request limit or the memory limit,
a new ``/v1/messages`` request gets 529 ``overloaded_error`` with ``retry-after`` (the
anthropic SDK raises ``OverloadedError``), while health probes are still answered; once
the load is gone, requests pass again. Streams are held open by a scripted upstream that
stalls them until their client leaves; nothing is timed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from lynkr_core.shedding import LoadGauge, Overloaded
from lynkr_core.testing.faults import Answer, Fault, FaultServer, StallMidStream, eventually
from lynkr_core.testing.server import make_test_app, serving

MODEL = "claude-shedding-test"
HOLD = "hold this stream open"


def script(body: Any) -> Fault:
    """Requests that say `HOLD` stall after their first frames; the others are answered."""
    held = body["messages"][0]["content"] == HOLD
    return StallMidStream(after=3) if held else Answer("answered")


@contextlib.asynccontextmanager
async def lynkr(**env: str) -> AsyncIterator[tuple[Any, str, anthropic.AsyncAnthropic]]:
    async with FaultServer(script) as upstream:
        app = make_test_app({
            "LYNKR_PLUGINS": "lynkr-provider-anthropic",
            "TOOL_EXECUTION_MODE": "client",
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url,
            "LYNKR_UPSTREAM_RETRIES": "0",
            **env,
        })
        async with serving(app) as url, anthropic.AsyncAnthropic(
            base_url=url, api_key="unused", max_retries=0
        ) as sdk:
            yield app, url, sdk


async def ask(sdk: anthropic.AsyncAnthropic, text: str = "hello") -> str:
    message = await sdk.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": text}])
    return message.content[0].text


async def get(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def test_past_the_active_limit_a_new_request_gets_529_and_passes_again_once_the_load_is_gone():
    async with lynkr(LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD="2", LYNKR_SHED_RETRY_AFTER_SECONDS="3") as (
        app, url, sdk
    ):
        async with contextlib.AsyncExitStack() as held:
            for _ in range(2):
                stream = await held.enter_async_context(
                    sdk.messages.stream(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": HOLD}])
                )
                assert (await anext(aiter(stream))).type == "message_start"
            assert app.state.load.active == 2
            with pytest.raises(anthropic.OverloadedError) as refused:
                await ask(sdk)
            assert refused.value.status_code == 529
            assert refused.value.body["error"]["type"] == "overloaded_error"
            assert "2 requests in progress" in refused.value.body["error"]["message"]
            assert refused.value.response.headers["retry-after"] == "3"
            assert refused.value.response.headers["request-id"].startswith("req_")
            assert [await get(url + path) for path in ("/health", "/health/ready", "/ready")] == [200] * 3
        # the held streams' clients left: lynkr ends them and counts them out
        assert await eventually(lambda: app.state.load.active == 0)
        assert await ask(sdk) == "answered"
        status = app.state.services.load()
    assert (status.active, status.shed, status.max_active) == (0, 1, 2)


async def test_above_the_memory_limit_model_requests_are_shed_and_probes_answered():
    async with lynkr(LYNKR_SHED_MEMORY_MB="1") as (app, url, sdk):  # any Python process is above 1 MB
        with pytest.raises(anthropic.OverloadedError, match="resident memory"):
            await ask(sdk)
        assert await get(url + "/health") == 200
        tokens = await sdk.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert tokens.input_tokens > 0
        assert app.state.load.status().memory_mb > 1
        async with openai.AsyncOpenAI(base_url=url + "/v1", api_key="unused", max_retries=0) as client:
            with pytest.raises(openai.APIStatusError) as refused:
                await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert refused.value.status_code == 529
        assert "resident memory" in refused.value.body["message"]  # OpenAI's error shape
        assert refused.value.response.headers["retry-after"] == "1"


async def test_no_limits_shed_nothing():
    async with lynkr(LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD="0") as (app, _, sdk):
        assert [await ask(sdk) for _ in range(3)] == ["answered"] * 3
        assert app.state.load.shed == 0


def test_memory_is_read_at_most_every_quarter_second():
    reads: list[int] = []
    now = [0.0]

    def memory() -> int:
        reads.append(1)
        return 10 * 2**20

    gauge = LoadGauge(max_active=0, max_memory_mb=5, memory=memory, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(Overloaded):
            gauge.check()
    now[0] += 0.25
    with pytest.raises(Overloaded):
        gauge.check()
    assert (len(reads), gauge.shed) == (2, 4)
