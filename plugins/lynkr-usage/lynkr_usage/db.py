"""The usage ledger: one SQLite file (WAL) shared by every worker process.

``usage`` has one row per finished exchange: when, which API key, session and model,
and its tokens (steps an interceptor answered, a cache's, cost nothing and are left
out). ``admissions`` has one row per request let through while a requests-per-minute
limit applies, for the sliding window. Every write is one ``BEGIN IMMEDIATE``
transaction, so an admission decision (read the window, then insert) is atomic across
threads and processes. Synchronous: callers run it on one thread of their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from lynkr_core import insert_rows, open_sqlite, write_transaction
from lynkr_usage.records import UsageRow

USAGE_COLUMNS = UsageRow._fields
#: How a report may group the rows: the SQL of each group.
GROUPS = {"key": "client", "model": "model", "session": "session",
          "day": "strftime('%Y-%m-%d', at, 'unixepoch')"}


@dataclass(slots=True)
class WindowUse:
    """Tokens a key used in a window: the rows' times and counts, oldest first."""

    times: list[float]
    tokens: list[int]
    input: list[int]
    output: list[int]


class UsageDB:
    """The ledger at ``path`` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite_utils.Database(open_sqlite(path))
        self._create()

    def _create(self) -> None:
        db = self.db
        with write_transaction(db.conn):
            db["usage"].create(
                {"seq": int, "at": float, "client": str, "session": str, "model": str, "provider": str,
                 "status": int, "streamed": int, "input": int, "output": int, "cache_read": int,
                 "cache_write": int, "duration": float},
                pk="seq", not_null={"at", "client", "model"}, if_not_exists=True)
            db["usage"].create_index(["client", "at"], if_not_exists=True)
            db["admissions"].create({"client": str, "at": float}, not_null={"client", "at"},
                                    if_not_exists=True)
            db["admissions"].create_index(["client", "at"], if_not_exists=True)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    # ----------------------------------------------------------------- writes

    def write(self, rows: Sequence[UsageRow]) -> None:
        """Keep finished exchanges, in one transaction."""
        with write_transaction(self.conn):
            insert_rows(self.conn, "usage", USAGE_COLUMNS, rows)

    # ------------------------------------------------------ inside an admission

    def admissions_since(self, client: str, since: float) -> tuple[int, float]:
        """How many admissions ``client`` had after ``since``, and the last one's time (older
        ones are deleted: the window has passed them)."""
        self.conn.execute("DELETE FROM admissions WHERE client = ? AND at <= ?", [client, since])
        count, last = self.conn.execute(
            "SELECT count(*), max(at) FROM admissions WHERE client = ?", [client]).fetchone()
        return count, last or 0.0

    def admission_at(self, client: str, index: int) -> float:
        """The time of ``client``'s ``index``-th admission still in the window (0: the oldest)."""
        return self.conn.execute("SELECT at FROM admissions WHERE client = ? ORDER BY at LIMIT 1 OFFSET ?",
                                 [client, index]).fetchone()[0]

    def admit(self, client: str, at: float) -> None:
        """Count one admission of ``client``."""
        self.conn.execute("INSERT INTO admissions (client, at) VALUES (?, ?)", [client, at])

    def tokens_since(self, client: str, since: float) -> WindowUse:
        """``client``'s tokens after ``since``, row by row, oldest first."""
        use = WindowUse([], [], [], [])
        for at, input_, output, cache_write in self.conn.execute(
                "SELECT at, input, output, cache_write FROM usage WHERE client = ? AND at > ? ORDER BY at",
                [client, since]):
            use.times.append(at)
            use.input.append(input_ + cache_write)
            use.output.append(output)
            use.tokens.append(input_ + cache_write + output)
        return use

    def tokens_from(self, client: str, start: float) -> int:
        """``client``'s tokens (input, cache writes, output) from ``start`` on."""
        row = self.conn.execute(
            "SELECT coalesce(sum(input + cache_write + output), 0) FROM usage "
            "WHERE client = ? AND at >= ?", [client, start]).fetchone()
        return int(row[0])

    def tokens_by_model_from(self, client: str, start: float) -> list[tuple[str, int, int, int, int]]:
        """``client``'s tokens from ``start`` on by model: (model, input, output, cache read,
        cache write)."""
        return [tuple(row) for row in self.conn.execute(
            "SELECT model, sum(input), sum(output), sum(cache_read), sum(cache_write) FROM usage "
            "WHERE client = ? AND at >= ? GROUP BY model", [client, start])]

    # ----------------------------------------------------------------- reports

    def totals(self, by: str, since: float | None = None, client: str | None = None) -> list[dict[str, Any]]:
        """Requests and tokens grouped by ``by`` (``GROUPS``) and model (costs need the model)."""
        column = GROUPS[by]
        where, args = ["1 = 1"], []
        if since is not None:
            where.append("at >= ?")
            args.append(since)
        if client is not None:
            where.append("client = ?")
            args.append(client)
        cursor = self.conn.execute(
            f"SELECT coalesce({column}, '-') AS grp, model, count(*), sum(input), sum(output), "
            f"sum(cache_read), sum(cache_write), min(at), max(at) FROM usage WHERE {' AND '.join(where)} "
            f"GROUP BY grp, model", args)
        names = ("group", "model", "requests", "input", "output", "cache_read", "cache_write", "first", "last")
        return [dict(zip(names, row, strict=True)) for row in cursor]
