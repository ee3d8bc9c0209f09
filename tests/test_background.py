"""BackgroundQueue: work off the request path, bounded, in order, never blocking the caller."""

from __future__ import annotations

import asyncio
import threading

import structlog

from lynkr_core import BackgroundQueue


async def test_items_are_handled_in_order_and_a_failing_one_stops_nothing():
    seen: list[int] = []

    async def handle(item: int) -> None:
        if item == 2:
            raise ValueError("bad item")
        seen.append(item)

    queue = BackgroundQueue("demo", handle, size=10)
    assert queue.submit(0) is False  # not started
    await queue.start()
    for item in range(5):
        assert queue.submit(item)
    await queue.idle()
    assert seen == [0, 1, 3, 4] and queue.failed == 1
    await queue.close()


async def test_a_full_queue_drops_and_counts_without_waiting():
    release = asyncio.Event()

    async def handle(item: int) -> None:
        await release.wait()

    queue = BackgroundQueue("demo", handle, size=2, fix="raise DEMO_SIZE")
    await queue.start()
    with structlog.testing.capture_logs() as logs:
        accepted = [queue.submit(item) for item in range(12)]
        await asyncio.sleep(0)
    assert accepted.count(True) in (2, 3)  # the worker may already hold the first
    assert queue.dropped == accepted.count(False)
    warnings = [entry["dropped"] for entry in logs if entry["event"] == "demo_queue_full"]
    assert warnings == [d for d in (1, 2, 4, 8) if d <= queue.dropped]
    release.set()
    await queue.close()


async def test_close_handles_what_is_queued_then_runs_last_on_the_queue_thread():
    threads: list[str] = []
    handled: list[int] = []

    async def handle(item: int) -> None:
        handled.append(await queue.on_thread(lambda: item * 10))

    queue = BackgroundQueue("demo", handle, size=10)
    await queue.start()
    for item in range(3):
        queue.submit(item)
    await queue.close(last=lambda: threads.append(threading.current_thread().name))
    assert handled == [0, 10, 20]
    assert threads and threads[0].startswith("demo") and threads[0] != threading.current_thread().name
    assert queue.started is False and queue.submit(9) is False
