"""Work handed off the request path: what plugins that record or learn from exchanges share.

A ``BackgroundQueue`` is a bounded queue read in order by one worker task, with
blocking work (SQLite, files) run on one thread of its own. ``submit`` never
waits: when the queue is full the item is dropped and counted, with a warning at
the 1st, 2nd, 4th, 8th... drop (counted, not flooding the log). ``close`` gives
the worker a bounded time to finish what is queued, then stops it and the
thread, running a last function (closing a database) on that thread first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import structlog

T = TypeVar("T")
R = TypeVar("R")

log = structlog.get_logger("lynkr.background")


class BackgroundQueue(Generic[T]):
    """A bounded queue of ``T`` handled one at a time by ``handle``, off the request path.

    ``name`` prefixes the log events (``<name>_queue_full``, ``<name>_failed``,
    ``<name>_close_timeout``); ``handle`` is awaited for each item in order, and an
    exception it raises is logged and counted (``failed``), never stopping the worker.
    """

    def __init__(
        self,
        name: str,
        handle: Callable[[T], Awaitable[None]],
        *,
        size: int,
        close_timeout: float = 10.0,
        fix: str = "",
    ) -> None:
        self.name = name
        self.size = size
        self.close_timeout = close_timeout
        self.fix = fix
        #: Items dropped because the queue was full; items whose handling raised.
        self.dropped = 0
        self.failed = 0
        self._handle = handle
        self._queue: asyncio.Queue[T] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether ``start`` ran and ``close`` did not yet."""
        return self._queue is not None

    async def start(self) -> None:
        """Create the queue, the thread and the worker (in the running event loop)."""
        self._queue = asyncio.Queue(maxsize=self.size)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        self._worker = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def submit(self, item: T) -> bool:
        """Queue ``item`` without waiting; ``False`` when not started or full (then dropped)."""
        queue = self._queue
        if queue is None:
            return False
        try:
            queue.put_nowait(item)
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
        """Wait until every queued item has been handled."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self, last: Callable[[], object] | None = None) -> None:
        """Handle what is queued (for at most ``close_timeout``), stop the worker, run ``last``
        on the thread (closing what it opened), and stop the thread."""
        if self._worker is not None and self._queue is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=self.close_timeout)
            except TimeoutError:
                log.warning(f"{self.name}_close_timeout", unhandled=self._queue.qsize())
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._worker = None
        self._queue = None
        if self._executor is not None:
            if last is not None:
                await self.on_thread(last)
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            item = await queue.get()
            try:
                await self._handle(item)
            except Exception:
                self.failed += 1
                log.exception(f"{self.name}_failed")
            finally:
                queue.task_done()
