"""The task tracker's storage: one SQLite table through sqlite-utils, rows scoped by workspace.

Every operation opens its own connection and closes it, so it can run in any
worker thread (a sqlite3 connection belongs to the thread that made it), and
runs in one transaction of its own. The database is in WAL mode, so readers
don't wait for a writer, with ``synchronous=FULL``: a task is on disk before
its tool call reports it created, and a crash (even ``kill -9`` mid-write)
loses nothing committed and leaves no half-written row.

Concurrent requests write concurrently. A write transaction takes the write
lock when it begins (``BEGIN IMMEDIATE``), so writers queue for up to
``BUSY_TIMEOUT`` seconds instead of failing: a deferred transaction that has
read cannot take the lock once another writer has committed since (SQLite
answers "database is locked" at once, without waiting).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from lynkr_core import ToolError, open_sqlite

#: The order tasks are listed in: what is being worked on first.
LIST_ORDER = ("in_progress", "todo", "blocked", "done")
TABLE = "tasks"
#: Tasks listed at most.
MAX_LISTED = 200
#: Seconds a connection waits for another's write lock before giving up.
BUSY_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Task:
    """One task of one workspace."""

    id: int
    title: str
    description: str
    status: str
    created: str
    updated: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Task:
        """A row of the ``tasks`` table as a Task."""
        return cls(row["id"], row["title"], row["description"] or "", row["status"], row["created"], row["updated"])


class TaskStore:
    """Tasks of ``workspace`` in the SQLite file ``path``."""

    def __init__(self, path: Path, workspace: str) -> None:
        self.path = path
        self.workspace = workspace

    def create(self, title: str, description: str, status: str) -> Task:
        """A new task (committed when this returns)."""
        now = _now()
        row = {"workspace": self.workspace, "title": title, "description": description,
               "status": status, "created": now, "updated": now}
        with self._transaction(write=True) as db:
            task_id = db.table(TABLE).insert(row).last_pk
            return self._get(db, task_id)

    def update(self, task_id: int, changes: dict[str, str]) -> tuple[Task, Task]:
        """Apply ``changes`` (title, description, status); the task before and after.

        ``updated`` only moves when something really changed.
        """
        with self._transaction(write=True) as db:
            before = self._get(db, task_id)
            actual = {name: value for name, value in changes.items() if getattr(before, name) != value}
            if actual:
                db.table(TABLE).update(task_id, {**actual, "updated": _now()})
            return before, self._get(db, task_id)

    def tasks(self, status: str | None) -> tuple[list[Task], dict[str, int]]:
        """Up to ``MAX_LISTED`` tasks (all, or those with ``status``) and the count per status."""
        where, params = "workspace = ?", [self.workspace]
        if status is not None:
            where += " and status = ?"
            params.append(status)
        order = "case status " + " ".join(f"when '{s}' then {i}" for i, s in enumerate(LIST_ORDER)) + " end, id"
        with self._transaction(write=False) as db:
            rows = db.table(TABLE).rows_where(where, params, order_by=order, limit=MAX_LISTED)
            listed = [Task.from_row(row) for row in rows]
            counts = dict(db.execute(
                f"select status, count(*) from {TABLE} where {where} group by status", params
            ).fetchall())
        return listed, counts

    def _get(self, db: Database, task_id: int) -> Task:
        rows = list(db.table(TABLE).rows_where("id = ? and workspace = ?", [task_id, self.workspace]))
        if not rows:
            raise ToolError(
                f"there is no task #{task_id} in this workspace; workspace_tasks_list shows the tasks"
            )
        return Task.from_row(rows[0])

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Database]:
        """A connection inside one transaction: committed when the block ends, rolled
        back if it raises. ``write`` takes the write lock at once (see the module docstring)."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Database(connection)
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ToolError(f"the task database {self.path} failed: {exc}") from None
        finally:
            connection.close()

    def _connect(self) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit), WAL, the table made."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # no implicit BEGIN (a deferred one) before a write; WAL, waiting for the switch
            # while another connection is still creating the database
            connection = open_sqlite(self.path, busy_timeout=BUSY_TIMEOUT)
        except (OSError, sqlite3.Error) as exc:
            raise ToolError(f"the task database {self.path} cannot be opened: {exc}") from None
        try:
            # fetchall: a statement left unfinished would hold a read snapshot open
            connection.execute("PRAGMA synchronous=FULL").fetchall()
            if not connection.execute(
                "select 1 from sqlite_master where type = 'table' and name = ?", [TABLE]
            ).fetchall():
                self._create_table(connection)
        except sqlite3.Error as exc:
            connection.close()
            raise ToolError(f"the task database {self.path} cannot be opened: {exc}") from None
        return connection

    @staticmethod
    def _create_table(connection: sqlite3.Connection) -> None:
        """The table and its index, once (another connection may be making them too)."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            db = Database(connection)
            db.table(TABLE).create(
                {"id": int, "workspace": str, "title": str, "description": str, "status": str,
                 "created": str, "updated": str},
                pk="id", not_null={"workspace", "title", "status"}, if_not_exists=True,
            )
            db.table(TABLE).create_index(["workspace", "status"], if_not_exists=True)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
