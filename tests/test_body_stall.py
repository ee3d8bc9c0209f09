"""The request body's stall limit (``LimitedBody``, ``StallWatch``): one timer per body,
with the semantics of a timeout around each ``receive``: a body that keeps arriving is
never cut however long it takes in all; a wait with nothing arriving for the limit is;
a cancellation from elsewhere stays a cancellation; nothing is left scheduled after."""

from __future__ import annotations

import asyncio
import time

import pytest

from lynkr_core.body_stall import BodyStalled, StallWatch
from lynkr_core.errors import LynkrError
from lynkr_core.middleware import LimitedBody

LIMIT = 1.0


class Client:
    """An ASGI ``receive`` fed by the test."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict] = asyncio.Queue()

    async def receive(self) -> dict:
        return await self.messages.get()

    def send(self, body: bytes, more: bool) -> None:
        self.messages.put_nowait({"type": "http.request", "body": body, "more_body": more})


async def test_a_body_that_keeps_arriving_is_never_cut_however_long_it_takes():
    client = Client()
    body = LimitedBody(client.receive, limit=1000, timeout=LIMIT)

    async def trickle() -> None:
        for index in range(6):  # 6 x 0.3 s: longer than the limit in all
            await asyncio.sleep(LIMIT * 0.3)
            client.send(b"x", more=index < 5)

    feeding = asyncio.create_task(trickle())
    started = time.monotonic()
    received = []
    while not received or received[-1]["more_body"]:
        received.append(await body.receive())
    await feeding
    assert time.monotonic() - started > LIMIT
    assert b"".join(m["body"] for m in received) == b"x" * 6


async def test_a_body_that_stops_arriving_is_answered_408_after_the_limit():
    client = Client()
    body = LimitedBody(client.receive, limit=1000, timeout=LIMIT)
    client.send(b"half", more=True)
    assert (await body.receive())["body"] == b"half"
    started = time.monotonic()
    with pytest.raises(LynkrError) as refused:
        await body.receive()
    waited = time.monotonic() - started
    assert refused.value.status == 408 and "stalled" in refused.value.message
    assert LIMIT * 0.9 <= waited < LIMIT + 5


async def test_a_wait_after_the_app_was_busy_gets_the_whole_limit():
    """Time the app spends between two receives is not the client's: the next wait still
    gets the whole limit (as with a timeout around each receive)."""
    client = Client()
    watch = StallWatch(LIMIT)
    client.send(b"a", more=True)
    await watch.wait(client.receive())
    await asyncio.sleep(LIMIT * 1.5)  # the app busy; no one waits for the body
    asyncio.get_running_loop().call_later(LIMIT * 0.5, client.send, b"b", False)
    assert (await watch.wait(client.receive()))["body"] == b"b"
    watch.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation():
    client = Client()
    watch = StallWatch(LIMIT)
    waiting = asyncio.create_task(watch.wait(client.receive()))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    watch.close()


async def test_a_stalled_wait_raises_body_stalled_and_leaves_no_timer():
    client = Client()
    watch = StallWatch(LIMIT / 4)
    with pytest.raises(BodyStalled):
        await watch.wait(client.receive())
    assert asyncio.current_task().cancelling() == 0  # the cancellation it made is taken back
    watch.close()
    assert watch._timer is None


async def test_closing_the_body_stops_its_timer():
    client = Client()
    body = LimitedBody(client.receive, limit=1000, timeout=LIMIT)
    client.send(b"all", more=False)
    await body.receive()
    assert body._watch is not None and body._watch._timer is None
    client.messages.put_nowait({"type": "http.disconnect"})
    assert (await body.receive())["type"] == "http.disconnect"  # untimed from now on


async def test_a_body_over_the_size_limit_is_413():
    client = Client()
    body = LimitedBody(client.receive, limit=4, timeout=LIMIT)
    client.send(b"12345", more=True)
    with pytest.raises(LynkrError) as refused:
        await body.receive()
    assert refused.value.status == 413
    assert body._watch is not None and body._watch._timer is None
