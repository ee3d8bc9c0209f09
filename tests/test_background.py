"""BackgroundQueue: work off the request path, bounded, in order, never blocking the caller."""

from __future__ import annotations

import asyncio
import threading

import pytest
import structlog

from lynkr_core import BackgroundQueue, QueueStatus, background_queues
from lynkr_core.testing.faults import eventually


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
    assert accepted.count(True) == 2  # queued and in the worker's hand together
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


async def test_handle_many_gets_everything_queued_at_once_in_order():
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def handle_many(items: list[int]) -> None:
        batches.append(items)
        if items == [0]:
            await release.wait()  # the rest queue up behind the first batch
        if 5 in items:
            raise ValueError("bad batch")

    queue = BackgroundQueue("demo", handle_many=handle_many, size=7)
    await queue.start()
    queue.submit(0)
    await asyncio.sleep(0)
    for item in range(1, 7):
        assert queue.submit(item)
    assert not queue.submit(99)  # size bounds the batch in hand and the queued items together
    release.set()
    with structlog.testing.capture_logs() as logs:
        await queue.idle()
    assert batches == [[0], [1, 2, 3, 4, 5, 6]]
    assert queue.failed == 6 and queue.dropped == 1  # every item of the failed batch
    assert [entry["items"] for entry in logs if entry["event"] == "demo_failed"] == [6]
    queue.submit(7)
    await queue.idle()
    assert batches[-1] == [7]
    await queue.close()


def test_a_queue_takes_one_handler_of_the_two():
    async def handle(item: int) -> None: ...

    with pytest.raises(TypeError):
        BackgroundQueue("demo", size=1)
    with pytest.raises(TypeError):
        BackgroundQueue("demo", handle, handle_many=handle, size=1)  # type: ignore[arg-type]


async def test_started_queues_report_what_waits_what_was_dropped_and_what_failed():
    release = asyncio.Event()

    async def handle(item: int) -> None:
        await release.wait()
        if item == 0:
            raise ValueError("bad item")

    first, second = BackgroundQueue("b-demo", handle, size=2), BackgroundQueue("a-demo", handle, size=5)
    assert [s.name for s in background_queues() if s.name.endswith("-demo")] == []  # not started
    await first.start()
    await second.start()
    accepted = [first.submit(item) for item in range(5)]
    await asyncio.sleep(0)  # the worker has the first item in hand, the second waits
    mine = [s for s in background_queues() if s.name.endswith("-demo")]
    assert mine == [QueueStatus("a-demo", 5, 0, 0, 0), QueueStatus("b-demo", 2, 2, accepted.count(False), 0)]
    release.set()
    await first.idle()
    assert first.status() == QueueStatus("b-demo", 2, 0, 3, 1)
    await first.close()
    await second.close()
    assert [s for s in background_queues() if s.name.endswith("-demo")] == []  # closed: gone


async def test_a_lingering_worker_waits_for_more_until_enough_are_queued_or_someone_waits():
    batches: list[list[int]] = []

    async def handle_many(items: list[int]) -> None:
        batches.append(items)

    queue = BackgroundQueue("demo", handle_many=handle_many, size=100, linger=60, linger_items=3)
    await queue.start()
    queue.submit(0)
    await asyncio.sleep(0)  # the worker has the first and lingers
    queue.submit(1)
    queue.submit(2)
    await asyncio.sleep(0.01)
    assert batches == []  # two queued: not enough yet
    queue.submit(3)  # three queued: enough
    assert await eventually(lambda: batches == [[0, 1, 2, 3]])
    queue.submit(4)
    await asyncio.wait_for(queue.idle(), 5)  # someone waits: no lingering for a minute
    assert batches == [[0, 1, 2, 3], [4]]
    queue.submit(5)
    await asyncio.wait_for(queue.close(), 5)  # nor when it closes
    assert batches[-1] == [5]


async def test_a_lingering_worker_handles_what_it_has_when_the_time_is_up():
    batches: list[list[int]] = []

    async def handle_many(items: list[int]) -> None:
        batches.append(items)

    queue = BackgroundQueue("demo", handle_many=handle_many, size=100, linger=0.05)
    await queue.start()
    queue.submit(0)
    queue.submit(1)
    assert await eventually(lambda: batches == [[0, 1]], within=5)
    await queue.close()


def test_linger_is_for_batches():
    async def handle(item: int) -> None:
        pass

    with pytest.raises(TypeError, match="linger is for handle_many"):
        BackgroundQueue("demo", handle, size=1, linger=1)
