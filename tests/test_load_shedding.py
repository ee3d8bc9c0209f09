"""Load shedding through a real lynkr: past the active-request limit, the memory limit or
when a named background queue could not take one more record, a new ``/v1/messages`` request gets 529
``overloaded_error`` with ``retry-after`` (the anthropic SDK raises ``OverloadedError``),
while health probes are still answered; once the load is gone, requests pass again.
Streams are held open by a scripted upstream that stalls them until their client leaves;
nothing is timed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from lynkr_core import QueueStatus
from lynkr_core.shedding import LoadGauge, Overloaded
from lynkr_core.testing.faults import Answer, Fault, FaultServer, StallMidStream, eventually
from lynkr_core.testing.plugins import HeldRecorder, inline_plugin
from lynkr_core.testing.server import make_test_app, serving

MODEL = "claude-shedding-test"
HOLD = "hold this stream open"


def script(body: Any) -> Fault:
    """Requests that say `HOLD` stall after their first frames; the others are answered."""
    held = body["messages"][0]["content"] == HOLD
    return StallMidStream(after=3) if held else Answer("answered")


@contextlib.asynccontextmanager
async def lynkr(*plugins: tuple[str, Any], **env: str) -> AsyncIterator[tuple[Any, str, anthropic.AsyncAnthropic]]:
    async with FaultServer(script) as upstream:
        app = make_test_app({
            "LYNKR_PLUGINS": "lynkr-provider-anthropic",
            "TOOL_EXECUTION_MODE": "client",
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url,
            "LYNKR_UPSTREAM_RETRIES": "0",
            **env,
        }, plugins=list(plugins))
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


async def test_while_a_named_queue_could_not_take_its_record_a_new_request_waits():
    recorder = HeldRecorder("records", 2)
    async with lynkr(("recorder", inline_plugin(observers=[recorder])), LYNKR_SHED_QUEUES="records",
                     LYNKR_PLUGINS="lynkr-provider-anthropic,recorder") as (app, url, sdk):
        assert await ask(sdk) == "answered"  # its record waits in the recorder's hand
        assert await ask(sdk) == "answered"  # and this one's in the queue: 2 of 2
        assert await eventually(lambda: recorder.queue.status().waiting == 2)
        with pytest.raises(anthropic.OverloadedError, match="records queue holds 2 of 2 with 0 requests") as refused:
            await ask(sdk)
        assert refused.value.response.headers["retry-after"] == "1"
        assert await get(url + "/health") == 200
        recorder.gate.set()
        await recorder.queue.idle()
        assert await ask(sdk) == "answered"
        assert recorder.queue.dropped == 0 and app.state.load.shed == 1


async def test_concurrent_requests_are_let_in_only_as_far_as_their_records_fit():
    recorder = HeldRecorder("records", 4)
    async with lynkr(("recorder", inline_plugin(observers=[recorder])), LYNKR_SHED_QUEUES="records",
                     LYNKR_PLUGINS="lynkr-provider-anthropic,recorder") as (_, _, sdk):
        outcomes = await asyncio.gather(*(ask(sdk) for _ in range(12)), return_exceptions=True)
        answered = outcomes.count("answered")
        assert 1 <= answered <= 4  # the writer is held: four records fit, whatever the timing
        assert all(isinstance(o, anthropic.OverloadedError) for o in outcomes if o != "answered")
        assert await eventually(lambda: recorder.queue.status().waiting == answered)
        assert recorder.queue.dropped == 0


def test_a_request_is_let_in_only_while_its_record_will_fit_in_the_named_queues():
    queues = [QueueStatus("sessions", 10, 4, 0, 0), QueueStatus("reflector", 64, 63, 0, 0)]
    gauge = LoadGauge(max_active=0, queues=["sessions"], queue_status=lambda: queues)
    gauge.active = 5
    gauge.check()  # 4 waiting and 5 in progress: the 10th fits (the reflector's is not named)
    gauge.active = 6
    with pytest.raises(Overloaded, match="sessions queue holds 4 of 10 with 6 requests in progress"):
        gauge.check()
    assert LoadGauge(max_active=0, queue_status=lambda: queues).queues == frozenset()  # none named: off


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
