"""The exchange hook only queues: a full queue drops (counted, warned) and never waits."""

from __future__ import annotations

import asyncio
import statistics
import time

import structlog


async def test_a_full_queue_drops_and_counts_without_blocking_the_hook(feeder_factory, claude_code):
    feeder = await feeder_factory(REFLECTOR_QUEUE_SIZE="2")
    reflector = feeder.reflector
    gate = asyncio.Event()
    read = reflector.reflect

    async def slow(exchange):
        await gate.wait()
        return await read(exchange)

    reflector.reflect = slow  # the worker is busy with the first exchange
    session = claude_code.load("session_debug_discount")
    exchanges = []
    for call in claude_code.calls(session)[:7]:
        exchange, context = claude_code.exchange(feeder.settings, call, session["session_id"])
        await reflector.prepare(exchange.request, context)
        exchanges.append(exchange)

    timings = []
    with structlog.testing.capture_logs() as logs:
        for exchange in exchanges:
            started = time.perf_counter()
            await reflector.exchange_finished(exchange)  # queues, never waits for the worker
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
