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
