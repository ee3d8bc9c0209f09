"""``CancelOnDisconnect``: the client's leaving cancels the block, nothing else is touched."""

from __future__ import annotations

import asyncio

import pytest

from lynkr_core.disconnect import CancelOnDisconnect, ClientDisconnected


class Channel:
    """An ASGI ``receive`` whose messages the test puts in."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict] = asyncio.Queue()

    async def receive(self) -> dict:
        return await self.queue.get()


async def test_a_block_that_finishes_returns_its_result_and_stops_the_watcher():
    channel = Channel()
    async with CancelOnDisconnect(channel.receive) as watch:
        await asyncio.sleep(0)
        result = "done"
    assert result == "done" and not watch.disconnected
    await asyncio.sleep(0)
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_the_client_leaving_cancels_the_awaited_work_and_raises_client_disconnected():
    channel = Channel()
    unwound = asyncio.Event()

    async def upstream_call() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            unwound.set()

    async def handler() -> None:
        async with CancelOnDisconnect(channel.receive):
            await upstream_call()

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    channel.queue.put_nowait({"type": "http.request", "body": b"", "more_body": False})  # not a leave
    await asyncio.sleep(0)
    assert not task.done()
    channel.queue.put_nowait({"type": "http.disconnect"})
    with pytest.raises(ClientDisconnected):
        await task
    assert unwound.is_set()
    assert task.cancelling() == 0  # the watcher's cancellation was withdrawn


async def test_a_cancellation_from_elsewhere_passes_through_unchanged():
    channel = Channel()

    async def handler() -> None:
        async with CancelOnDisconnect(channel.receive):
            await asyncio.sleep(3600)

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    task.cancel()  # the server shutting down
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_task_can_await_again_after_a_disconnect():
    channel = Channel()

    async def handler() -> str:
        try:
            async with CancelOnDisconnect(channel.receive):
                await asyncio.sleep(3600)
        except ClientDisconnected:
            await asyncio.sleep(0)  # cleanup that awaits (closing the upstream) is not cancelled
            return "cleaned up"
        return "finished"

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    channel.queue.put_nowait({"type": "http.disconnect"})
    assert await task == "cleaned up"
