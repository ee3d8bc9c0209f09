"""The session store: ``record`` only queues; one worker writes on a thread of its own.

The queue is bounded (``SESSION_QUEUE_SIZE``): a full one drops the exchange with a
counted warning, so ``record`` never waits. One worker task reads the queue in order
and hands each exchange to the database thread, which encodes it and writes it in one
transaction. Reads (``sessions``, ``exchanges``, ``delete``) run on the same thread, so
they see every write queued before them only once it is written (``idle`` waits).
Retention runs on the same thread: at start, then after every ``RETENTION_EVERY``
writes or ``RETENTION_SECONDS``, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from lynkr_core import Exchange, Services, SessionStore, SessionSummary, StoredExchange
from lynkr_sessions import records
from lynkr_sessions.config import DB_NAME, PLUGIN_NAME, SessionsSettings
from lynkr_sessions.db import SessionDB

T = TypeVar("T")

log = structlog.get_logger(PLUGIN_NAME)

#: How long ``close`` waits for the queue to be written before giving up on the rest.
CLOSE_TIMEOUT_SECONDS = 10.0
#: Check retention after this many writes, or this long after the last check.
RETENTION_EVERY = 200
RETENTION_SECONDS = 300.0
DAY_SECONDS = 86_400


class SqliteSessionStore(SessionStore):
    """Finished exchanges by session, in ``LYNKR_HOME/lynkr-sessions/sessions.db``."""

    name = "sessions"

    def __init__(self, config: SessionsSettings, secrets: list[str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.secrets = list(secrets or [])
        #: Wall-clock time (a test may give its own).
        self.clock = clock
        #: Exchanges written, exchanges dropped because the queue was full, writes that failed.
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self._queue: asyncio.Queue[tuple[Exchange, float]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._db: SessionDB | None = None
        self._since_check = 0
        self._last_check = 0.0

    # ------------------------------------------------------------- lifecycle

    async def start(self, services: Services) -> None:
        """Open the database (on its thread), apply retention once, start the worker."""
        path = services.data_dir(PLUGIN_NAME) / DB_NAME
        self._queue = asyncio.Queue(maxsize=self.config.queue_size)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=PLUGIN_NAME)
        await self._on_thread(self._open, path)
        await self._on_thread(self.retain)
        self._worker = asyncio.get_running_loop().create_task(self._run(), name=PLUGIN_NAME)

    async def close(self) -> None:
        """Write what is queued (for at most ``CLOSE_TIMEOUT_SECONDS``), then close."""
        if self._worker is not None and self._queue is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=CLOSE_TIMEOUT_SECONDS)
            except TimeoutError:
                log.warning("sessions_close_timeout", unwritten=self._queue.qsize())
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._executor is not None:
            if self._db is not None:
                await self._on_thread(self._db.close)
                self._db = None
            self._executor.shutdown(wait=True)
            self._executor = None

    # ------------------------------------------------------------- the contract

    async def record(self, exchange: Exchange) -> None:
        """Queue a finished exchange to be written (skipped without a session id)."""
        self.submit(exchange)

    def submit(self, exchange: Exchange) -> bool:
        """Queue ``exchange`` without waiting; ``False`` when it is not (no session, not
        started, or the queue is full: then it is dropped and counted)."""
        queue = self._queue
        if queue is None or exchange.session_id is None:
            return False
        try:
            queue.put_nowait((exchange, self.clock()))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # 1, 2, 4, 8...: counted, not flooding
                log.warning("sessions_queue_full", dropped=self.dropped, queue_size=queue.maxsize,
                            fix="raise SESSION_QUEUE_SIZE")
            return False
        return True

    async def idle(self) -> None:
        """Wait until every queued exchange has been written."""
        if self._queue is not None:
            await self._queue.join()

    async def sessions(self, *, limit: int = 50) -> list[SessionSummary]:
        """The most recently updated sessions first, at most ``limit``."""
        return await self._on_thread(lambda: self._database().sessions(limit))

    async def session(self, session_id: str) -> SessionSummary | None:
        """One session's summary, or ``None``."""
        return await self._on_thread(lambda: self._database().session(session_id))

    async def exchanges(self, session_id: str, *, limit: int | None = None) -> list[StoredExchange]:
        """A session's exchanges, oldest first (the last ``limit`` when given)."""
        return await self._on_thread(
            lambda: [records.from_row(row) for row in self._database().exchange_rows(session_id, limit)])

    async def exchange_rows(self, session_id: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """A session's exchanges as plain JSON data, content as stored."""
        return await self._on_thread(
            lambda: [records.row_as_json(row) for row in self._database().exchange_rows(session_id, limit)])

    async def delete(self, session_id: str) -> bool:
        """Forget a session; ``False`` when there was none."""
        return await self._on_thread(lambda: self._database().delete(session_id))

    async def prune(self) -> list[str]:
        """Apply retention now; the ids of the sessions deleted."""
        return await self._on_thread(self.retain)

    # ------------------------------------------------------------- the worker

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            exchange, finished = await self._queue.get()
            try:
                await self._on_thread(self._write, exchange, finished)
            except Exception:
                self.failed += 1
                log.exception("sessions_write_failed", session=exchange.session_id,
                              request_id=exchange.context.request_id)
            finally:
                self._queue.task_done()

    # ------------------------------------------------------------- the database thread

    def _open(self, path: Any) -> None:
        self._db = SessionDB(path)

    def _database(self) -> SessionDB:
        if self._db is None:
            raise RuntimeError("the session store is not started")
        return self._db

    def _write(self, exchange: Exchange, finished: float) -> None:
        row = records.to_row(exchange, finished, self.config.content, self.secrets)
        self._database().write(row)
        self.written += 1
        self._since_check += 1
        if self._since_check >= RETENTION_EVERY or self.clock() - self._last_check >= RETENTION_SECONDS:
            self.retain()

    def retain(self) -> list[str]:
        """On the database thread: delete what ``SESSION_RETENTION_DAYS`` and
        ``SESSION_MAX_BYTES`` no longer keep."""
        now = self.clock()
        self._since_check, self._last_check = 0, now
        days = self.config.retention_days
        deleted = self._database().prune(older_than=now - days * DAY_SECONDS if days else None,
                                         max_bytes=self.config.max_bytes or None)
        if deleted:
            log.info("sessions_pruned", sessions=len(deleted))
        return deleted

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("the session store is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
