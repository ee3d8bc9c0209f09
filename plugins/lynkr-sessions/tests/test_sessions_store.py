"""The store on its own: retention by age and by size, a full queue that drops, and
exchanges queued behind a busy writer written together."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import structlog
from lynkr_sessions.store import ROWS_PER_TRANSACTION

DAY = 86_400


def hold_writer(store, batches: list[int] | None = None) -> threading.Event:
    """Keep the store's writer thread waiting at its next batch until the returned event is
    set (``batches`` gets each batch's size)."""
    gate = threading.Event()
    write = store._write

    def held(items):
        gate.wait(10)
        if batches is not None:
            batches.append(len(items))
        write(items)

    store._write = held
    return gate


async def test_sessions_older_than_the_retention_are_deleted(store_factory, helpers):
    clock = helpers.Clock()
    store, settings = await store_factory(clock, SESSION_RETENTION_DAYS="30")
    store.submit(helpers.exchange(settings, "old", "one"))
    await store.idle()
    clock.now += 10 * DAY
    store.submit(helpers.exchange(settings, "middle", "two"))
    await store.idle()
    assert [s.id for s in await store.sessions()] == ["middle", "old"]

    clock.now += 25 * DAY  # "old" is 35 days old, "middle" 25
    store.submit(helpers.exchange(settings, "new", "three"))
    await store.idle()  # the worker checks: the last check was long ago
    assert [s.id for s in await store.sessions()] == ["new", "middle"]
    assert await store.exchanges("old") == []


async def test_zero_days_keeps_everything(store_factory, helpers):
    clock = helpers.Clock()
    store, settings = await store_factory(clock, SESSION_RETENTION_DAYS="0")
    store.submit(helpers.exchange(settings, "old", "one"))
    await store.idle()
    clock.now += 3650 * DAY
    store.submit(helpers.exchange(settings, "new", "two"))
    await store.idle()
    assert await store.prune() == []
    assert [s.id for s in await store.sessions()] == ["new", "old"]


async def test_the_oldest_sessions_go_first_when_the_database_is_too_big(store_factory, helpers):
    clock = helpers.Clock()
    store, settings = await store_factory(clock, SESSION_MAX_BYTES="400000")
    big = "x" * 100_000
    for name in ("s1", "s2", "s3", "s4", "s5"):
        clock.now += 600  # each write is followed by a check
        store.submit(helpers.exchange(settings, name, f"{name} {big}"))
        await store.idle()
    kept = [s.id for s in await store.sessions()]
    assert kept[:2] == ["s5", "s4"] and "s1" not in kept
    assert len(kept) < 5
    used = await store._on_thread(lambda: store._database().used_bytes())
    assert used <= 400_000
    # the pages freed went back to the file system, not to a free list
    pragmas = await store._on_thread(lambda: [store._database().db.execute(f"PRAGMA {name}").fetchone()[0]
                                              for name in ("auto_vacuum", "freelist_count")])
    assert pragmas == [2, 0]  # 2: incremental


async def test_a_full_queue_drops_and_counts_without_blocking(store_factory, helpers):
    store, settings = await store_factory(SESSION_QUEUE_SIZE="2")
    gate = hold_writer(store)  # the worker is busy with the first exchange
    exchanges = [helpers.exchange(settings, "busy", f"turn {n}") for n in range(7)]
    timings = []
    with structlog.testing.capture_logs() as logs:
        for exchange in exchanges:
            started = time.perf_counter()
            store.record(exchange)  # queues, never waits for the worker
            timings.append(time.perf_counter() - started)
    assert store.dropped == 5
    warnings = [entry for entry in logs if entry["event"] == "sessions_queue_full"]
    assert [w["dropped"] for w in warnings] == [1, 2, 4]  # counted, without a line per drop
    assert warnings[0]["queue_size"] == 2 and warnings[0]["fix"] == "raise SESSION_QUEUE_SIZE"
    assert statistics.median(timings) < 200e-6

    gate.set()
    await asyncio.wait_for(store.idle(), 10)
    assert store.written == 2
    [summary] = await store.sessions()
    assert summary.exchanges == 2


async def test_close_writes_what_is_queued(store_factory, helpers):
    store, settings = await store_factory()
    for n in range(20):
        store.submit(helpers.exchange(settings, "s", f"turn {n}"))
    await store.close()
    again, _ = await store_factory()
    [summary] = await again.sessions()
    assert summary.exchanges == 20
    assert [e.request.messages[0].content for e in await again.exchanges("s", limit=2)] == [
        "turn 18", "turn 19"]


async def test_delete(store_factory, helpers):
    store, settings = await store_factory()
    store.submit(helpers.exchange(settings, "s", "hi"))
    await store.idle()
    assert await store.delete("s") is True
    assert await store.delete("s") is False
    assert await store.sessions() == []


async def test_exchanges_queued_behind_the_writer_are_written_together(store_factory, helpers):
    """Every SQLite statement costs the writer thread a wait for the GIL (up to 5 ms while the
    event loop is busy), so exchanges that queued up while it wrote are written together,
    a few statements per 16: one exchange at a time, five statements each, it fell behind a
    busy gateway and the queue overflowed."""
    store, settings = await store_factory(SESSION_QUEUE_SIZE="100")
    batches: list[int] = []
    gate = hold_writer(store, batches)
    statements: list[str] = []
    await store._on_thread(lambda: store._database().db.conn.set_trace_callback(statements.append))
    store.submit(helpers.exchange(settings, "first", "the writer is busy with this one"))
    await asyncio.sleep(0.05)
    for n in range(64):
        assert store.submit(helpers.exchange(settings, f"s{n % 3}", f"turn {n}"))
    gate.set()
    await asyncio.wait_for(store.idle(), 10)
    await store._on_thread(lambda: store._database().db.conn.set_trace_callback(None))

    assert batches == [1, 64] and store.written == 65 and store.dropped == 0
    # the second batch, 16 exchanges to a transaction: BEGIN, a read and a write per session
    # (three), the last row number, one INSERT, COMMIT; from the second transaction on, a
    # check per session that its last exchange, whose messages the next one shares, is there
    second = statements[statements.index("COMMIT") + 1:]
    assert ROWS_PER_TRANSACTION == 16
    assert len(second) == 4 * (1 + 3 * 2 + 1 + 1 + 1) + 3 * 3, second
    assert sum(sql.startswith("INSERT INTO exchanges") for sql in second) == 4
    summaries = {s.id: s.exchanges for s in await store.sessions()}
    assert summaries == {"first": 1, "s0": 22, "s1": 21, "s2": 21}
    kept = await store.exchanges("s1")
    assert [e.request.messages[0].content for e in kept] == [f"turn {n}" for n in range(1, 64, 3)]


async def test_a_failing_transaction_loses_only_its_own_exchanges(store_factory, helpers):
    store, settings = await store_factory(SESSION_QUEUE_SIZE="100")
    gate = hold_writer(store)
    database = await store._on_thread(store._database)
    write_many = database.write_many
    calls = []

    def second_fails(rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OSError("disk full")
        write_many(rows)

    database.write_many = second_fails
    store.submit(helpers.exchange(settings, "s", "the writer is busy with this one"))
    await asyncio.sleep(0.05)
    for n in range(40):
        store.submit(helpers.exchange(settings, "s", f"turn {n}"))
    with structlog.testing.capture_logs() as logs:
        gate.set()
        await asyncio.wait_for(store.idle(), 10)
    assert calls == [1, ROWS_PER_TRANSACTION, ROWS_PER_TRANSACTION, 40 - 2 * ROWS_PER_TRANSACTION]
    assert store.failed == ROWS_PER_TRANSACTION and store.written == 41 - ROWS_PER_TRANSACTION
    assert [entry.get("exchanges") for entry in logs if entry["event"] == "sessions_failed"] == [ROWS_PER_TRANSACTION]
    kept = await store.exchanges("s")
    assert [e.request.messages[0].content for e in kept][1:] == [f"turn {n}" for n in range(ROWS_PER_TRANSACTION, 40)]
