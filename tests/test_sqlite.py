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
