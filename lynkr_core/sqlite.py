"""SQLite as lynkr's stateful plugins use it: one connection, used from one thread (a
``BackgroundQueue``'s), WAL, and every write one ``BEGIN IMMEDIATE`` transaction, so
that writers from several worker processes queue for the lock instead of failing, and
a killed process leaves nothing half-written."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


def open_sqlite(path: Path | str, *, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """A connection to the database at ``path`` (created if missing) in WAL mode, without
    Python's implicit (deferred) transactions: use ``write_transaction`` for writes.
    ``busy_timeout``: seconds a writer waits for another process's lock."""
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


@contextlib.contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (``BEGIN IMMEDIATE``): all of the block or nothing."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
