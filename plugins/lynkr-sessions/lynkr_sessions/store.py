"""The session store: ``record`` only queues; one worker writes on a thread of its own.

The queue is bounded (``SESSION_QUEUE_SIZE``): a full one drops the exchange with a
counted warning, so ``record`` never waits. One worker task reads the queue in order
and hands each exchange to the database thread, which encodes it and writes it in one
transaction. Reads (``sessions``, ``exchanges``, ``delete``) run on the same thread, so
they see every write queued before them only once it is written (``idle`` waits).
Retention runs on the same thread: at start, then after every ``RETENTION_EVERY``
writes or ``RETENTION_SECONDS``, whichever comes first.

With ``SESSION_RESTORE_TOOL_RESULTS`` on, ``record`` also keeps, on the event loop and
before it queues the write, what the exchange hid from its client (``hidden``) in
``recent``: the next turn finds it there whether or not the write is done.
``hidden_turns`` gives a session's hidden turns to the restoring preparer: from
memory, or read once from the database through a connection of its own on another
thread (never behind the writer).
"""

from __future__ import annotations

import asyncio
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
from lynkr_sessions import hidden, records
from lynkr_sessions.config import DB_NAME, PLUGIN_NAME, SessionsSettings
from lynkr_sessions.db import SessionDB, load_hidden_turns
from lynkr_sessions.recent import RecentTurns, SessionTurns

T = TypeVar("T")

log = structlog.get_logger(PLUGIN_NAME)

#: How long ``close`` waits for the queue to be written before giving up on the rest.
CLOSE_TIMEOUT_SECONDS = 10.0
#: Exchanges written in one transaction: their rows (a Claude Code turn's is tens of KB of
#: JSON) are built just before, so this bounds what a batch holds in memory at once (a
#: power of two: one ``INSERT``, see ``insert_rows``).
ROWS_PER_TRANSACTION = 16
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
        self.queue: BackgroundQueue[tuple[Exchange, float, str | None]] = BackgroundQueue(
            "sessions", handle_many=self._write_queued, size=config.queue_size,
            close_timeout=CLOSE_TIMEOUT_SECONDS, fix="raise SESSION_QUEUE_SIZE",
        )
        self._db: SessionDB | None = None
        self._path: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._since_check = 0
        self._last_check = 0.0
        #: Recent sessions' hidden tool turns (``SESSION_RESTORE_TOOL_RESULTS``).
        self.recent = RecentTurns(config.restore_cache_bytes)
        self._loading: dict[str, asyncio.Future[SessionTurns]] = {}

    # ------------------------------------------------------------- lifecycle

    async def start(self, services: Services) -> None:
        """Open the database (on its thread), apply retention once, start the worker."""
        path = self._path = services.data_dir(PLUGIN_NAME) / DB_NAME
        self._loop = asyncio.get_running_loop()
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

    def record(self, exchange: Exchange) -> None:
        """Queue a finished exchange to be written (skipped without a session id; a plain
        function: the core calls it without a task)."""
        self.submit(exchange)

    def submit(self, exchange: Exchange) -> bool:
        """Queue ``exchange`` without waiting; ``False`` when it is not (no session, not
        started, or the queue is full: then it is dropped and counted). Its hidden tool
        turns are remembered first, even when the write is dropped."""
        if exchange.session_id is None:
            return False
        return self.queue.submit((exchange, self.clock(), self._remember(exchange)))

    def _remember(self, exchange: Exchange) -> str | None:
        """Keep ``exchange``'s hidden turns in ``recent``; their JSON for the row (masked when
        ``SESSION_CONTENT=redacted``), or ``None``."""
        if not self.config.restore_tool_results or exchange.session_id is None:
            return None
        sent = exchange.client_request or exchange.request
        position = len(sent.messages)
        began_here = not any(message.role == "assistant" for message in sent.messages)
        try:
            turns = hidden.hidden_turns_of(exchange)
        except Exception:
            exchange.context.log.exception("sessions_hidden_turns_failed")
            turns = None
        if turns is None:
            self.recent.remember(exchange.session_id, exchange.context.request_id, None, 0,
                                 position=position, began_here=began_here)
            return None
        text = hidden.encode(turns).decode()
        if self.config.content == "redacted" and self.secrets:
            text = records.mask(text, self.secrets)
        # kept decoded from the text the row gets: the same bytes as a read after a restart,
        # holding nothing of the exchange's own buffers
        turns = hidden.decode(text)
        self.recent.remember(exchange.session_id, exchange.context.request_id, turns, len(text),
                             position=position, began_here=began_here)
        return text

    async def hidden_turns(self, session_id: str, until: int) -> SessionTurns:
        """A session's hidden tool turns, accounting for every answer below index ``until`` of
        its client's history: from memory, or, when memory does not cover them (a restart,
        an eviction, another worker process), read from the database off the event loop,
        once however many ask at once."""
        session = self.recent.get(session_id)
        if session is not None and session.known_until >= until:
            return session
        if self.config.content == "none" or self._path is None:  # nothing of it in the database
            return self.recent.loaded(session_id, [], until)
        loading = self._loading.get(session_id)
        if loading is None:
            loading = self._loading[session_id] = asyncio.ensure_future(self._load(session_id, until))
            loading.add_done_callback(lambda _: self._loading.pop(session_id, None))
        return await asyncio.shield(loading)

    async def _load(self, session_id: str, until: int) -> SessionTurns:
        rows = await asyncio.to_thread(load_hidden_turns, self._path, session_id)
        stored = []
        for request_id, text in rows:
            try:
                stored.append((request_id, hidden.decode(text), len(text)))
            except Exception:
                log.warning("sessions_hidden_turns_unreadable", request_id=request_id)
        return self.recent.loaded(session_id, stored, until)

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

    async def exchange(self, request_id: str) -> StoredExchange | None:
        """One exchange by its request id (``None`` when none is kept): waits for the queued
        writes first, so an exchange that just finished is found."""
        await self.idle()

        def find() -> StoredExchange | None:
            row = self._database().exchange_row(request_id)
            return None if row is None else records.from_row(row)

        return await self._on_thread(find)

    async def delete(self, session_id: str) -> bool:
        """Forget a session; ``False`` when there was none."""
        self.recent.forget([session_id])
        return await self._on_thread(lambda: self._database().delete(session_id))

    async def prune(self) -> list[str]:
        """Apply retention now; the ids of the sessions deleted."""
        return await self._on_thread(self.retain)

    # ------------------------------------------------------------- the worker

    async def _write_queued(self, items: list[tuple[Exchange, float, str | None]]) -> None:
        await self._on_thread(self._write, items)

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

    def _write(self, items: list[tuple[Exchange, float, str | None]]) -> None:
        """Write a batch of finished exchanges, ``ROWS_PER_TRANSACTION`` to a transaction. One
        that cannot be made into a row is left out, a transaction that fails loses its own
        rows; either is logged and counted (``failed``) and the rest are still written."""
        for start in range(0, len(items), ROWS_PER_TRANSACTION):
            rows = []
            for exchange, finished, hidden_turns in items[start:start + ROWS_PER_TRANSACTION]:
                try:
                    rows.append(records.to_row(exchange, finished, self.config.content, self.secrets, hidden_turns))
                except Exception:
                    self.queue.failed += 1
                    log.exception("sessions_failed", request_id=exchange.context.request_id)
            try:
                self._database().write_many(rows)
            except Exception:
                self.queue.failed += len(rows)
                log.exception("sessions_failed", exchanges=len(rows))
                continue
            self.written += len(rows)
            self._since_check += len(rows)
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
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self.recent.forget, deleted)
        return deleted

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.queue.on_thread(fn, *args)
