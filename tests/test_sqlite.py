"""open_sqlite and write_transaction: WAL, and a write block that fails leaves nothing."""

from __future__ import annotations

import pytest

from lynkr_core import open_sqlite, write_transaction


def test_a_failing_write_block_leaves_nothing_and_a_good_one_commits(tmp_path):
    connection = open_sqlite(tmp_path / "t.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), write_transaction(connection):
        connection.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("half way")
    with write_transaction(connection):
        connection.execute("INSERT INTO t VALUES (2)")
    connection.close()
    reopened = open_sqlite(tmp_path / "t.db")
    assert reopened.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_opening_waits_for_a_writer_creating_a_new_database(tmp_path):
    """A database still in rollback mode while another connection writes it (two processes
    creating it at once): SQLite refuses the switch to WAL at once, without its busy
    handler; opening waits for the writer instead of failing with "database is locked"."""
    import sqlite3
    import threading

    path = tmp_path / "new.db"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("CREATE TABLE t (x)")
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("INSERT INTO t VALUES (1)")
    commit = threading.Timer(0.2, lambda: creator.execute("COMMIT"))
    commit.start()
    try:
        connection = open_sqlite(path, busy_timeout=10)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]
        connection.close()
    finally:
        commit.join()
        creator.close()


def test_insert_rows_writes_every_row_in_order_with_one_statement_per_chunk(tmp_path):
    """A writer thread's batch: one multi-row INSERT per 500 rows (each statement one
    step, so one release of the GIL), values kept exactly (floats, None, text)."""
    from lynkr_core import insert_rows
    from lynkr_core.sqlite import ROWS_PER_STATEMENT

    connection = open_sqlite(tmp_path / "t.db")
    connection.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, at REAL, name TEXT, n INTEGER)")
    rows = [(1_765_000_000.123456 + i / 7, None if i % 3 else f"row {i}", i) for i in range(2 * ROWS_PER_STATEMENT + 21)]
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    with write_transaction(connection):
        insert_rows(connection, "t", ("at", "name", "n"), rows)
    connection.set_trace_callback(None)
    # the trace shows each statement with its values: rows are "(...), (...)"
    inserts = [sql.count("), (") + 1 for sql in statements if sql.startswith("INSERT")]
    # executemany would have traced one per row; chunks of a power of two keep the
    # statements few, whatever the batch's size
    assert inserts == [ROWS_PER_STATEMENT, ROWS_PER_STATEMENT, 16, 4, 1]
    assert connection.execute("SELECT at, name, n FROM t ORDER BY seq").fetchall() == rows


def test_insert_rows_stays_under_sqlites_parameter_bound_for_wide_rows(tmp_path):
    from lynkr_core import insert_rows
    from lynkr_core.sqlite import MAX_PARAMETERS

    connection = open_sqlite(tmp_path / "t.db")
    columns = tuple(f"c{i}" for i in range(100))
    connection.execute(f"CREATE TABLE t ({', '.join(columns)})")
    rows = [tuple(range(row, row + 100)) for row in range(700)]
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    with write_transaction(connection):
        insert_rows(connection, "t", columns, rows)
    counts = [(sql.count("), (") + 1) * 100 for sql in statements if sql.startswith("INSERT")]
    # 100 columns: at most 256 rows (25,600 parameters) a statement; 700 = 256 + 256 + 128 + 32 + 16 + 8 + 4
    assert counts == [rows * 100 for rows in (256, 256, 128, 32, 16, 8, 4)]
    assert max(counts) <= MAX_PARAMETERS
    assert connection.execute("SELECT count(*), sum(c99) FROM t").fetchone() == (700, sum(r[99] for r in rows))


def test_insert_rows_refuses_a_row_of_the_wrong_width_and_the_transaction_keeps_nothing(tmp_path):
    from lynkr_core import insert_rows

    connection = open_sqlite(tmp_path / "t.db")
    connection.execute("CREATE TABLE t (a, b)")
    with pytest.raises(ValueError, match="2 values"), write_transaction(connection):
        insert_rows(connection, "t", ("a", "b"), [(1, 2), (3,), (4, 5)])
    with pytest.raises(ValueError, match="2 values"), write_transaction(connection):
        insert_rows(connection, "t", ("a", "b"), [(1, 2, 3), (4,)])  # the right total, misaligned
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
    with write_transaction(connection):
        insert_rows(connection, "t", ("a", "b"), [])
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
