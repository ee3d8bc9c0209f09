"""The exchange hook only queues: a full queue drops (counted, warned) and never waits."""

from __future__ import annotations

import asyncio
import statistics
import time

import structlog


async def prepared_exchanges(feeder, claude_code, count):
    """The first ``count`` exchanges of a recorded Claude Code session, each prepared."""
    session = claude_code.load("session_debug_discount")
    exchanges = []
    for call in claude_code.calls(session)[:count]:
        exchange, context = claude_code.exchange(feeder.settings, call, session["session_id"])
        await feeder.reflector.prepare(exchange.request, context)
        exchanges.append(exchange)
    return exchanges


async def test_a_full_queue_drops_and_counts_without_blocking_the_hook(feeder_factory, claude_code):
    feeder = await feeder_factory(REFLECTOR_QUEUE_SIZE="2")
    reflector = feeder.reflector
    gate = asyncio.Event()
    read = reflector.reflect_many

    async def slow(exchanges):
        await gate.wait()
        return await read(exchanges)

    reflector.reflect_many = slow  # the worker is busy with what it took first
    exchanges = await prepared_exchanges(feeder, claude_code, 7)

    timings = []
    with structlog.testing.capture_logs() as logs:
        for exchange in exchanges:
            started = time.perf_counter()
            reflector.exchange_finished(exchange)  # queues, never waits for the worker
            timings.append(time.perf_counter() - started)
    assert reflector.dropped == 5
    warnings = [entry for entry in logs if entry["event"] == "reflector_queue_full"]
    assert [w["dropped"] for w in warnings] == [1, 2, 4]  # counted, without a line per drop
    assert warnings[0]["queue_size"] == 2 and warnings[0]["fix"] == "raise REFLECTOR_QUEUE_SIZE"
    assert statistics.median(timings) < 200e-6

    gate.set()
    await reflector.idle()
    assert reflector.processed == 2


async def test_close_reads_what_is_queued(feeder_factory, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_discount")
    for call in claude_code.calls(session):
        exchange, context = claude_code.exchange(feeder.settings, call, session["session_id"])
        await feeder.reflector.prepare(exchange.request, context)
        feeder.reflector.submit(exchange)
    await feeder.reflector.close()
    assert feeder.reflector.processed == len(claude_code.calls(session))


async def test_exchanges_queued_behind_the_worker_are_read_in_one_trip_each_on_its_own(
        feeder_factory, claude_code):
    # What waits while the worker is busy is read in one trip to the database thread (a trip
    # per exchange waited for a busy event loop each time); each exchange is still its own
    # transaction, so one whose reading fails costs only itself.
    feeder = await feeder_factory()
    reflector = feeder.reflector
    exchanges = await prepared_exchanges(feeder, claude_code, 7)
    gate = asyncio.Event()
    trips = []
    read_all, read = reflector._read_all, reflector._read

    def recorded_trip(batch):
        trips.append(len(batch))
        return read_all(batch)

    def third_fails(*job):
        if len(job[1].messages) == len(exchanges[2].request.messages):
            raise RuntimeError("a reading that breaks")
        return read(*job)

    async def gated(batch):
        await gate.wait()
        return await reflect_many(batch)

    reflect_many = reflector.reflect_many
    reflector.reflect_many = gated
    reflector._read_all, reflector._read = recorded_trip, third_fails
    reflector.submit(exchanges[0])
    await asyncio.sleep(0)  # the worker takes the first one and waits at the gate
    for exchange in exchanges[1:]:
        reflector.submit(exchange)
    with structlog.testing.capture_logs() as logs:
        gate.set()
        await reflector.idle()
    assert trips == [1, 6]
    assert reflector.processed == 6 and reflector.queue.failed == 1
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == ["reflector_failed"]
