"""The persistent store: answers and counters in two diskcache directories.

``entries/`` holds the stored answers (msgspec-encoded ``MessageResponse`` bytes by key),
least recently used evicted first once ``size_limit`` bytes are passed, each entry
expiring ``ttl`` after it was stored; ``entries`` beyond ``max_entries`` are culled,
least recently used first, after each store. ``stats/`` holds the counters (never
evicted). diskcache keeps both in SQLite (WAL), safe for several processes at once.

Every method blocks (SQLite, files): the interceptor calls them from its own thread
(``background.StoreThread``), the CLI directly.
"""

from __future__ import annotations

from pathlib import Path

import diskcache
import msgspec

#: How long a call waits for another process's write before giving up (a get then misses).
LOCK_TIMEOUT_SECONDS = 2.0

#: The counters kept in ``stats/``.
COUNTERS = ("hits", "misses", "bypassed", "stored", "saved_input_tokens", "saved_output_tokens")

#: What diskcache raises when SQLite stays locked or the files are unusable.
STORE_ERRORS = (diskcache.Timeout, OSError)


class StoreStats(msgspec.Struct, kw_only=True):
    """What ``lynkr cache stats`` shows."""

    directory: str
    entries: int = 0
    bytes: int = 0
    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    stored: int = 0
    saved_input_tokens: int = 0
    saved_output_tokens: int = 0


class Store:
    """The answers and counters under ``directory``.

    Without ``max_entries`` (the CLI) the eviction settings already stored in the
    directory stay as they are.
    """

    def __init__(
        self,
        directory: Path,
        *,
        ttl_seconds: float | None = None,
        max_entries: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.directory = directory
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        settings = {}
        if max_bytes is not None:
            settings = {"eviction_policy": "least-recently-used", "size_limit": max_bytes}
        self.entries = diskcache.Cache(str(directory / "entries"), timeout=LOCK_TIMEOUT_SECONDS, **settings)
        self.counters = diskcache.Cache(
            str(directory / "stats"), timeout=LOCK_TIMEOUT_SECONDS, eviction_policy="none"
        )

    @staticmethod
    def exists(directory: Path) -> bool:
        """Whether a store was ever opened in ``directory``."""
        return (directory / "entries").is_dir()

    def get(self, key: str) -> bytes | None:
        """The stored answer for ``key`` (marks it used), or ``None``."""
        value = self.entries.get(key)
        return value if isinstance(value, bytes) else None

    def put(self, key: str, value: bytes) -> None:
        """Store ``value`` for ``key``, then cull down to ``max_entries``."""
        self.entries.set(key, value, expire=self.ttl_seconds)
        if self.max_entries is not None and len(self.entries) > self.max_entries:
            self._cull(self.max_entries)

    def _cull(self, limit: int) -> None:
        """Expired entries out, then the least recently used beyond ``limit``.

        diskcache has no count limit; its own culling query (by ``access_time``, indexed
        under the least-recently-used policy) picks the keys, and ``delete`` removes each
        with its file, if any. ``len`` is a counter diskcache keeps, so the check after each
        store is cheap and the cull runs only when it is needed.
        """
        self.entries.expire()
        excess = len(self.entries) - limit
        if excess <= 0:
            return
        # diskcache offers no public listing by access time: its own culling query it is.
        oldest = self.entries._sql(
            "SELECT key FROM Cache ORDER BY access_time LIMIT ?", (excess,)
        ).fetchall()
        for (key,) in oldest:
            self.entries.delete(key)

    def add_counts(self, counts: dict[str, int]) -> None:
        """Add ``counts`` to the persisted counters (one transaction, atomic across processes)."""
        with self.counters.transact():
            for name, delta in counts.items():
                self.counters.incr(name, delta)

    def stats(self) -> StoreStats:
        """Entries (expired ones not counted), bytes on disk, and the counters."""
        self.entries.expire()
        counters = {name: int(self.counters.get(name, 0)) for name in COUNTERS}
        return StoreStats(
            directory=str(self.directory),
            entries=len(self.entries),
            bytes=self.entries.volume(),
            **counters,
        )

    def clear(self, *, counters: bool = False) -> int:
        """Remove every stored answer (and, with ``counters``, reset the counters);
        returns how many answers were removed."""
        removed = self.entries.clear()
        if counters:
            self.counters.clear()
        return removed

    def close(self) -> None:
        """Close the calling thread's connections."""
        self.entries.close()
        self.counters.close()
