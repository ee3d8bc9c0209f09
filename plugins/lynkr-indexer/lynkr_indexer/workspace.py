"""``WorkspaceIndex``: the index of one workspace while the server runs. Shared by the
plugin's tools and preparer, started once, kept fresh by a file watcher (``watchfiles``)
or a check before each use; indexing and reading run in threads, never on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog
import watchfiles

from lynkr_indexer.config import IndexerSettings, db_path
from lynkr_indexer.db import connect, get_meta
from lynkr_indexer.indexer import IndexReport, index_workspace
from lynkr_indexer.languages import language_for
from lynkr_indexer.project import MANIFESTS
from lynkr_indexer.repomap import RepoMapper

log = structlog.get_logger("lynkr-indexer")
T = TypeVar("T")


class WorkspaceIndex:
    """The index of ``root``: ``refresh`` brings it up to date, ``read`` runs a query."""

    def __init__(self, root: Path, home: str, settings: IndexerSettings) -> None:
        self.root = root
        self.home = home
        self.settings = settings
        self.path = db_path(home, root)
        self.mapper = RepoMapper()
        self._starts = 0
        self._connection: sqlite3.Connection | None = None  # reads, under _db_lock
        self._writer: sqlite3.Connection | None = None  # indexing, under _refresh_lock
        self._db_lock = threading.Lock()
        self._refresh_lock: asyncio.Lock | None = None
        self._dirty = True
        self._watching = False
        self._cancel = threading.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = threading.Event()
        self.last_report: IndexReport | None = None
        self._indexing: asyncio.Future[IndexReport] | None = None

    async def start(self, services: Any = None) -> None:
        """Bring an existing index up to date in the background and watch the workspace
        (or build one now, with ``auto_index``); without either, nothing is created until a
        tool needs the index. Called by each object sharing the index; only the first call
        works."""
        self._starts += 1
        if self._starts > 1:
            return
        if services is not None:
            self.path = services.data_dir("lynkr-indexer") / self.path.name
        self._refresh_lock = asyncio.Lock()
        indexed = self.available() and await self.read(self.generation) > 0
        if self.root.is_dir() and (indexed or self.settings.auto_index):
            # an index to keep fresh (one from before, or one to build now): catch up in the
            # background, then watch
            self._spawn(self._refresh_logged())
            self._start_watching()
        elif self.root.is_dir():
            log.info("workspace_not_indexed", root=str(self.root),
                     hint="the first workspace tool call builds the index; `lynkr index` builds it now, "
                          "INDEXER_AUTO_INDEX=true at every start-up without one")

    def _start_watching(self) -> None:
        if self.settings.freshness == "watch" and not self._watching and self.root.is_dir():
            self._watching = True
            self._spawn(self._watch())

    async def close(self) -> None:
        """Stop watching and indexing, and close the database (after the last user closed)."""
        self._starts -= 1
        if self._starts > 0:
            return
        self._stop.set()
        self._cancel.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._connection is not None:
            with self._db_lock:
                self._connection.close()
            self._connection = None
        if self._indexing is not None:  # a cancelled refresh's thread still runs: let it finish
            with contextlib.suppress(Exception):
                await self._indexing
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self) -> IndexReport:
        """Bring the index up to date (one refresh at a time; parsing in worker processes)."""
        assert self._refresh_lock is not None, "WorkspaceIndex.start was not called"
        async with self._refresh_lock:
            self._dirty = False
            if self._writer is None:
                self._writer = await asyncio.to_thread(connect, self.path)
            writer = self._writer
            self._indexing = asyncio.get_running_loop().run_in_executor(None, self._index, writer)
            report = await asyncio.shield(self._indexing)
            self.last_report = report
            if report.changed:
                log.info("workspace_indexed", **report.as_dict())
            return report

    def _index(self, writer: sqlite3.Connection) -> IndexReport:
        """Index, then rank the new graph for the repo map (so that a map query need not)."""
        report = index_workspace(writer, self.root, self.settings.options(), cancel=self._cancel)
        self.mapper.ranked(writer, report.generation)
        return report

    async def ensure_fresh(self) -> None:
        """Before a tool answers: build the index if there is none yet (then watch, with
        ``watch``), else re-index what changed (``request``), or what the watcher saw
        change (``watch``); nothing more with ``off``."""
        never = await self.read(self.generation) == 0
        if never or self.settings.freshness == "request" or (self.settings.freshness == "watch" and self._dirty):
            await self.refresh()
        self._start_watching()

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``query`` on the database in a thread."""
        return await asyncio.to_thread(self._locked, query)

    def _locked(self, query: Callable[[sqlite3.Connection], T]) -> T:
        with self._db_lock:
            if self._connection is None:
                if self._stop.is_set():
                    raise RuntimeError("the workspace index is closed")
                self._connection = connect(self.path)  # first use: the database is created
            return query(self._connection)

    def available(self) -> bool:
        """Whether the index database exists (reading it would not create it)."""
        return self._connection is not None or self.path.exists()

    def generation(self, connection: sqlite3.Connection) -> int:
        """How many times the index changed (0: never indexed)."""
        return int(get_meta(connection, "generation", 0))

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception:
            log.exception("workspace_index_failed", root=str(self.root))

    async def _watch(self) -> None:
        """Mark the index dirty when a relevant file changes, and re-index in the background."""
        try:
            async for _ in watchfiles.awatch(self.root, watch_filter=_relevant, stop_event=self._stop,
                                             recursive=True):
                self._dirty = True
                await self._refresh_logged()
        except Exception:
            log.exception("workspace_watch_failed", root=str(self.root))


def _relevant(change: watchfiles.Change, path: str) -> bool:
    name = Path(path).name
    return language_for(name) is not None or name == ".gitignore" or name in MANIFESTS
