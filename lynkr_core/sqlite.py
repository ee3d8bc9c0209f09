"""SQLite as lynkr's stateful plugins use it: one connection, used from one thread (a
``BackgroundQueue``'s), WAL, and every write one ``BEGIN IMMEDIATE`` transaction, so
that writers from several worker processes queue for the lock instead of failing, and
a killed process leaves nothing half-written."""

from __future__ import annotations

import contextlib
import functools
import itertools
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


def open_sqlite(path: Path | str, *, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """A connection to the database at ``path`` (created if missing) in WAL mode, without
    Python's implicit (deferred) transactions: use ``write_transaction`` for writes.
    ``busy_timeout``: seconds a writer waits for another process's lock."""
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
    try:
        _switch_to_wal(connection, busy_timeout)
        connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        connection.close()
        raise
    return connection


def _switch_to_wal(connection: sqlite3.Connection, busy_timeout: float) -> None:
    """``PRAGMA journal_mode = WAL``, waiting up to ``busy_timeout`` for a lock: on a database
    still in rollback mode (a new one another connection is creating) SQLite answers
    "database is locked" at once instead of calling its busy handler."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


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


#: SQLite's bound on parameters per statement (``SQLITE_MAX_VARIABLE_NUMBER`` since 3.32).
MAX_PARAMETERS = 32_766
#: The most rows one ``INSERT`` of ``insert_rows`` carries.
ROWS_PER_STATEMENT = 512


def insert_rows(
    connection: sqlite3.Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert ``rows`` (each its values in ``columns``' order) with a few multi-row
    ``INSERT`` statements, inside the caller's transaction: chunks of a power of two
    rows (20 rows go as 16 and 4), so that the few statements there are stay in
    sqlite3's statement cache instead of being prepared anew for every batch size.

    Not ``executemany``: sqlite3 releases the GIL around every step, and ``executemany``
    steps once per row, so a writer thread has to win the GIL back from a busy event loop
    once per row (up to ``sys.getswitchinterval()``, 5 ms, each time): 500 rows took
    2.9 s while the loop's thread ran, and every hand-over interrupts the loop. One
    statement is one step."""
    width = len(columns)
    most = min(ROWS_PER_STATEMENT, _power_of_two_at_most(MAX_PARAMETERS // width))
    start = 0
    while start < len(rows):
        count = min(most, _power_of_two_at_most(len(rows) - start))
        chunk = rows[start : start + count]
        if any(len(row) != width for row in chunk):
            raise ValueError(f"every row must have {width} values, one per column")
        values = list(itertools.chain.from_iterable(chunk))
        connection.execute(_insert_sql(table, tuple(columns), count), values)
        start += count


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


@functools.lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], count: int) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([row] * count)
