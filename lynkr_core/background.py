"""Work handed off the request path: what plugins that record or learn from exchanges share.

A ``BackgroundQueue`` is a bounded queue read in order by one worker task, with
blocking work (SQLite, files) run on one thread of its own. The worker takes one
item at a time (``handle``) or everything queued at once (``handle_many``: one
thread hop for a whole batch, written with a few statements rather than a few per
item, which is what keeps a writer up with a busy event loop); with ``linger`` it
first waits that long for more to come, unless enough are queued already. ``submit``
never waits: when the queue is full the item is dropped and counted, with a warning at
the 1st, 2nd, 4th, 8th... drop (counted, not flooding the log). ``close`` gives
the worker a bounded time to finish what is queued, then stops it and the
thread, running a last function (closing a database) on that thread first.
``background_queues()`` reports every started queue of the process (what
lynkr-metrics exports), so that drops are counted where operators look, not only
in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

T = TypeVar("T")
R = TypeVar("R")

log = structlog.get_logger("lynkr.background")


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """A started ``BackgroundQueue`` as it is now: its ``name`` and ``size``, the items
    ``waiting`` (queued or in the worker's hand), and the items ``dropped`` (the queue
    was full) and ``failed`` (their handling raised) since it started."""

    name: str
    size: int
    waiting: int
    dropped: int
    failed: int


class BackgroundQueue(Generic[T]):
    """A bounded queue of ``T`` handled off the request path, in order: one at a time by
    ``handle``, or by ``handle_many`` in lists of everything queued when the worker gets
    to it (give one of the two). ``size`` bounds the items queued and in hand together.

    ``name`` prefixes the log events (``<name>_queue_full``, ``<name>_failed``,
    ``<name>_close_timeout``); the handler is awaited for each item or batch in order,
    and an exception it raises is logged and counted (``failed``, per item), never
    stopping the worker.

    Batches are for writers that work on a thread: a SQLite statement releases the GIL
    while it runs, and a thread waits up to ``sys.getswitchinterval()`` (5 ms) to get it
    back from a busy event loop, so a write of several statements per item keeps up
    with a few dozen items a second at most; a batch pays that once.

    ``linger`` (seconds, with ``handle_many``): once the worker has an item, it waits up
    to that long for others, unless ``linger_items`` are queued (or ``idle`` or ``close``
    waits), so that a quiet gateway writes once in a while, not once per item. ``size``
    and ``linger`` may be changed while the queue runs (a hot reload).
    """

    def __init__(
        self,
        name: str,
        handle: Callable[[T], Awaitable[None]] | None = None,
        *,
        handle_many: Callable[[list[T]], Awaitable[None]] | None = None,
        size: int,
        linger: float = 0.0,
        linger_items: int = 256,
        close_timeout: float = 10.0,
        fix: str = "",
    ) -> None:
        if (handle is None) == (handle_many is None):
            raise TypeError("BackgroundQueue takes handle or handle_many, one of the two")
        if linger and handle_many is None:
            raise TypeError("BackgroundQueue's linger is for handle_many")
        self.name = name
        self.size = size
        self.linger = linger
        self.linger_items = linger_items
        self.close_timeout = close_timeout
        self.fix = fix
        #: Items dropped because the queue was full; items whose handling raised.
        self.dropped = 0
        self.failed = 0
        self._handle = handle
        self._handle_many = handle_many
        #: Items the worker has taken and not finished: ``size`` bounds them with the queued
        #: ones (what the queue holds in memory, a batch included).
        self._in_hand = 0
        self._queue: asyncio.Queue[T] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        #: Set when the worker should stop lingering: enough items, or someone waits.
        self._enough: asyncio.Event | None = None
        self._idle_waiters = 0

    @property
    def started(self) -> bool:
        """Whether ``start`` ran and ``close`` did not yet."""
        return self._queue is not None

    async def start(self) -> None:
        """Create the queue, the thread and the worker (in the running event loop)."""
        self._queue = asyncio.Queue()  # bounded by ``submit``, against ``size`` as it is now
        self._enough = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        self._worker = asyncio.get_running_loop().create_task(self._run(), name=self.name)
        _started.add(self)

    def status(self) -> QueueStatus:
        """The queue as it is now."""
        queued = self._queue.qsize() if self._queue is not None else 0
        return QueueStatus(self.name, self.size, queued + self._in_hand, self.dropped, self.failed)

    def submit(self, item: T) -> bool:
        """Queue ``item`` without waiting; ``False`` when not started or full (then dropped)."""
        queue = self._queue
        if queue is None:
            return False
        try:
            if queue.qsize() + self._in_hand >= self.size:
                raise asyncio.QueueFull
            queue.put_nowait(item)
            if self.linger and queue.qsize() >= self.linger_items and self._enough is not None:
                self._enough.set()
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:
                log.warning(f"{self.name}_queue_full", dropped=self.dropped, queue_size=self.size,
                            fix=self.fix or None)
            return False
        return True

    async def on_thread(self, function: Callable[..., R], *args: Any) -> R:
        """``function(*args)`` on the queue's own thread (blocking work, in order)."""
        if self._executor is None:
            raise RuntimeError(f"{self.name} is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def idle(self) -> None:
        """Wait until every queued item has been handled (the worker lingers no more meanwhile)."""
        if self._queue is not None and self._enough is not None:
            self._idle_waiters += 1
            self._enough.set()
            try:
                await self._queue.join()
            finally:
                self._idle_waiters -= 1

    async def close(self, last: Callable[[], object] | None = None) -> None:
        """Handle what is queued (for at most ``close_timeout``), stop the worker, run ``last``
        on the thread (closing what it opened), and stop the thread."""
        if self._worker is not None and self._queue is not None:
            self.linger = 0.0
            if self._enough is not None:
                self._enough.set()
            try:
                await asyncio.wait_for(self._queue.join(), timeout=self.close_timeout)
            except TimeoutError:
                log.warning(f"{self.name}_close_timeout", unhandled=self._queue.qsize())
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._worker = None
        self._queue = None
        _started.discard(self)
        if self._executor is not None:
            if last is not None:
                await self.on_thread(last)
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            items = [await queue.get()]
            self._in_hand = 1
            if self._handle_many is not None:
                await self._linger(queue)
                while not queue.empty():
                    items.append(queue.get_nowait())
            self._in_hand = len(items)
            try:
                if self._handle_many is None:
                    assert self._handle is not None
                    await self._handle(items[0])
                else:
                    await self._handle_many(items)
            except Exception:
                self.failed += len(items)
                log.exception(f"{self.name}_failed", items=len(items))
            finally:
                self._in_hand = 0
                for _ in items:
                    queue.task_done()

    async def _linger(self, queue: asyncio.Queue[T]) -> None:
        """Wait up to ``linger`` for more items, unless there are enough or someone waits."""
        enough = self._enough
        assert enough is not None
        if self.linger and not self._idle_waiters and queue.qsize() + 1 < self.linger_items:
            with contextlib.suppress(TimeoutError):  # a set ``enough`` returns at once
                async with asyncio.timeout(self.linger):  # no task made, as wait_for would
                    await enough.wait()
        enough.clear()


#: The queues started and not closed, in this process.
_started: weakref.WeakSet[BackgroundQueue[Any]] = weakref.WeakSet()


def background_queues() -> list[QueueStatus]:
    """Every started queue of this process as it is now, by name (two of one name, as when
    tests run two apps in one process, are reported each)."""
    return sorted((queue.status() for queue in list(_started)), key=lambda status: status.name)
