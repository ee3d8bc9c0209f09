"""The index database of one workspace: schema (created with sqlite-utils) and the
queries the tools, the repo map and the CLI read it with.

Tables: ``files``, ``symbols`` (definitions), ``refs`` (references, resolved to a symbol
where possible), ``imports`` (module imports, resolved to a file where possible) and
``meta`` (JSON facts: language mix, frameworks, tests, when it was indexed).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from lynkr_core import open_sqlite, write_transaction

SCHEMA_VERSION = 1


def connect(path: Path) -> sqlite3.Connection:
    """The database at ``path`` (created with its schema if missing), WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = open_sqlite(path)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = OFF")
    create_schema(connection)
    return connection


def create_schema(connection: sqlite3.Connection) -> None:
    """The tables and indexes, if missing (in one write transaction: two connections
    opening a new database at once do not both create it)."""
    db = sqlite_utils.Database(connection)
    with write_transaction(connection):
        if "files" not in db.table_names():
            _create_tables(connection, db)
        create_indexes(connection)  # also those a bulk load dropped and did not make again


def _create_tables(connection: sqlite3.Connection, db: sqlite_utils.Database) -> None:
    db["files"].create({
        "id": int, "path": str, "language": str, "size": int, "mtime_ns": int, "hash": str,
        "status": str, "note": str, "lines": int, "symbols": int,
    }, pk="id")
    db["files"].create_index(["path"], unique=True)
    db["symbols"].create({
        "id": int, "file_id": int, "name": str, "kind": str, "qualified_name": str,
        "start_line": int, "end_line": int, "signature": str, "doc": str,
    }, pk="id")
    db["refs"].create({
        "id": int, "file_id": int, "name": str, "kind": str, "line": int, "scope": str, "target_id": int,
    }, pk="id")
    db["imports"].create({"id": int, "file_id": int, "module": str, "line": int, "target_file_id": int}, pk="id")
    db["meta"].create({"key": str, "value": str}, pk="key")
    connection.execute("INSERT INTO meta VALUES ('schema', ?)", (json.dumps(SCHEMA_VERSION),))


#: The secondary indexes, dropped for a bulk load (a first index of many files) and made
#: again after it, which is faster than keeping them up to date row by row.
INDEXES = {
    "symbols_file": "symbols (file_id)",
    "symbols_name": "symbols (name COLLATE NOCASE)",
    "refs_file": "refs (file_id)",
    "refs_name": "refs (name)",
    "refs_target": "refs (target_id)",
    "imports_file": "imports (file_id)",
}


def create_indexes(connection: sqlite3.Connection) -> None:
    """The secondary indexes, if missing (inside the caller's transaction)."""
    for name, target in INDEXES.items():
        connection.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(connection: sqlite3.Connection) -> None:
    """Drop the secondary indexes before a bulk load (inside the caller's transaction)."""
    for name in INDEXES:
        connection.execute(f"DROP INDEX IF EXISTS {name}")


def get_meta(connection: sqlite3.Connection, key: str, default: Any = None) -> Any:
    """A JSON value of ``meta``."""
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def set_meta(connection: sqlite3.Connection, key: str, value: Any) -> None:
    """Store a JSON value in ``meta`` (inside the caller's transaction)."""
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (key, json.dumps(value, sort_keys=True)))


@dataclass(frozen=True, slots=True)
class SymbolRow:
    """A definition as the tools show it."""

    id: int
    name: str
    kind: str
    qualified_name: str
    path: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    references: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "qualified_name": self.qualified_name,
                "path": self.path, "line": self.start_line, "end_line": self.end_line,
                "signature": self.signature, "doc": self.doc, "references": self.references}


_SYMBOL_COLUMNS = """s.id, s.name, s.kind, s.qualified_name, f.path, s.start_line, s.end_line,
    s.signature, s.doc,
    (SELECT COUNT(*) FROM refs r WHERE r.target_id = s.id)
    + (SELECT COUNT(*) FROM refs r WHERE r.target_id IS NULL AND r.name = s.name AND r.file_id != s.file_id)"""


def search_symbols(
    connection: sqlite3.Connection, query: str, *, kind: str | None = None, limit: int = 20
) -> list[SymbolRow]:
    """Definitions named ``query`` (case-insensitive), or starting with it, or whose
    qualified name contains it: exact matches first, then by how often they are referred
    to, then shortest names and paths."""
    pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sql = f"""SELECT {_SYMBOL_COLUMNS}, (lower(s.name) = lower(:q)) AS exact, (s.name LIKE :prefix ESCAPE '\\') AS prefix
        FROM symbols s JOIN files f ON f.id = s.file_id
        WHERE (s.name LIKE :prefix ESCAPE '\\' OR s.qualified_name LIKE :inner ESCAPE '\\')
        {"AND s.kind = :kind" if kind else ""}"""
    rows = connection.execute(sql, {"q": query, "prefix": pattern + "%", "inner": "%" + pattern + "%",
                                    "kind": kind}).fetchall()
    rows.sort(key=lambda r: (-r["exact"], -r["prefix"], -r[9], len(r[1]), r[4], r[5]))
    return [SymbolRow(*row[:10]) for row in rows[:limit]]


def symbol_rows(connection: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[SymbolRow]:
    """Definitions matching a ``WHERE`` clause over ``s`` (symbols) and ``f`` (files)."""
    sql = f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id WHERE {where} ORDER BY f.path, s.start_line"
    return [SymbolRow(*row) for row in connection.execute(sql, params).fetchall()]
