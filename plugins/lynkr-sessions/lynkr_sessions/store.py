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

import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from lynkr_core import (
    BackgroundQueue,
    Exchange,
    Services,
    SessionStore,
    SessionSummary,
    StoredExchange,
)
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
        #: Exchanges written.
        self.written = 0
        #: The writes waiting, their worker and the database's thread.
        self.queue: BackgroundQueue[tuple[Exchange, float]] = BackgroundQueue(
            "sessions", self._write_queued, size=config.queue_size,
            close_timeout=CLOSE_TIMEOUT_SECONDS, fix="raise SESSION_QUEUE_SIZE",
        )
        self._db: SessionDB | None = None
        self._since_check = 0
        self._last_check = 0.0

    # ------------------------------------------------------------- lifecycle

    async def start(self, services: Services) -> None:
        """Open the database (on its thread), apply retention once, start the worker."""
        path = services.data_dir(PLUGIN_NAME) / DB_NAME
        await self.queue.start()
        await self._on_thread(self._open, path)
        await self._on_thread(self.retain)

    async def close(self) -> None:
        """Write what is queued (for at most ``CLOSE_TIMEOUT_SECONDS``), then close."""
        await self.queue.close(last=self._close_db)

    @property
    def dropped(self) -> int:
        """Exchanges dropped because the queue was full."""
        return self.queue.dropped

    @property
    def failed(self) -> int:
        """Writes that raised (logged as ``sessions_failed``)."""
        return self.queue.failed

    async def record(self, exchange: Exchange) -> None:
        """Queue a finished exchange to be written (skipped without a session id)."""
        self.submit(exchange)

    def submit(self, exchange: Exchange) -> bool:
        """Queue ``exchange`` without waiting; ``False`` when it is not (no session, not
        started, or the queue is full: then it is dropped and counted)."""
        if exchange.session_id is None:
            return False
        return self.queue.submit((exchange, self.clock()))

    async def idle(self) -> None:
        """Wait until every queued exchange has been written."""
        await self.queue.idle()

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

    async def _write_queued(self, item: tuple[Exchange, float]) -> None:
        exchange, finished = item
        await self._on_thread(self._write, exchange, finished)

    # ------------------------------------------------------------- the database thread

    def _open(self, path: Any) -> None:
        self._db = SessionDB(path)

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

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
        return await self.queue.on_thread(fn, *args)
