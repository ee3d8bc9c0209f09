"""Watching ``.env`` and ``lynkr.toml``: a change reloads the configuration.

``watchfiles`` (Rust's ``notify``, waiting on a thread of its own, so the event loop
never blocks on it) watches the directories holding the two files, so that a file
created after start, or replaced by an editor's write-and-rename, is seen too. Bursts of
events are grouped (``watchfiles``' debounce) into one reload. Each worker process
watches for itself; ``LYNKR_RELOAD_WATCH=false`` turns it off.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import structlog
import watchfiles

log = structlog.get_logger("lynkr.reload")

#: Longest time (ms) watchfiles groups a burst of changes over; it yields after 50 ms of quiet.
DEBOUNCE_MS = 800
STOP_TIMEOUT_SECONDS = 5.0
#: How often (ms) the watch thread reports in when nothing changed (the first one: it is in place).
RUST_TIMEOUT_MS = 1000


class ConfigWatcher:
    """Calls ``on_change`` after ``paths`` change (created, written, replaced, removed)."""

    def __init__(self, paths: Sequence[Path], on_change: Callable[[], Awaitable[object]]) -> None:
        self.paths = [Path(os.path.realpath(path)) for path in paths]
        self.on_change = on_change
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Set once the watch is in place (tests wait on it before editing a file).
        self.watching = asyncio.Event()

    def start(self) -> None:
        """Start watching in a background task (nothing when no directory exists)."""
        if self.directories():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lynkr-config-watch")

    def directories(self) -> list[Path]:
        """The existing directories that hold the watched files."""
        return sorted({path.parent for path in self.paths if path.parent.is_dir()})

    async def stop(self) -> None:
        """Stop watching; a reload under way is let finish (for a bounded time)."""
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("config_watch_stop_timeout")
        self._task = None

    async def _run(self) -> None:
        watched = {str(path) for path in self.paths}

        def relevant(_change: watchfiles.Change, path: str) -> bool:
            return os.path.realpath(path) in watched

        log.info("config_watch", files=sorted(watched))
        logging.getLogger("watchfiles.main").setLevel(logging.WARNING)  # it logs every change at info
        try:
            changes = watchfiles.awatch(*self.directories(), watch_filter=relevant, debounce=DEBOUNCE_MS,
                                        stop_event=self._stop, recursive=False, yield_on_timeout=True,
                                        rust_timeout=RUST_TIMEOUT_MS)
            async for changed in changes:
                self.watching.set()
                if not changed:
                    continue  # the first timeout: the watch is in place
                log.info("config_changed", files=sorted({os.path.basename(path) for _, path in changed}))
                try:
                    await self.on_change()
                except Exception:
                    log.exception("config_reload_failed")
        except Exception:
            log.exception("config_watch_failed", fix="restart lynkr, or use POST /v1/admin/reload")
        finally:
            self.watching.set()

