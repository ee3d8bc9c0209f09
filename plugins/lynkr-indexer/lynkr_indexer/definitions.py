"""The definitions a repo map shows, read from the index once per index generation.

Maps of one generation keep asking for the same definitions (the best-scored ones, the
files a conversation mentions), so their rows are kept in memory and only the missing ones
are read; a new generation starts a new cache.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

#: (defining file id, name)
Key = tuple[int, str]
#: A definition as a map shows it: (line, signature, or the qualified name without one).
Line = tuple[int, str]

_BATCH = 400  # keys per query (SQLite's limit on bound parameters is higher)


class DefinitionRows:
    """Definitions by (file, name) and all of a file's, read on first use and kept
    (a file's up to ``files`` files)."""

    def __init__(self, files: int = 256) -> None:
        self._by_key: dict[Key, list[Line]] = {}
        self._by_file: dict[int, list[tuple[str, int, str]]] = {}
        self._files = files

    def for_keys(self, connection: sqlite3.Connection, keys: list[Key]) -> dict[Key, list[Line]]:
        """The definitions named by each of ``keys`` (an empty list for a name the file
        does not define)."""
        missing = [key for key in keys if key not in self._by_key]
        for start in range(0, len(missing), _BATCH):
            self._read(connection, missing[start:start + _BATCH])
        return {key: self._by_key[key] for key in keys}

    def in_file(self, connection: sqlite3.Connection, file_id: int) -> list[tuple[str, int, str]]:
        """All definitions of a file: (name, line, signature)."""
        rows = self._by_file.get(file_id)
        if rows is None:
            if len(self._by_file) >= self._files:
                self._by_file.pop(next(iter(self._by_file)))
            rows = self._by_file[file_id] = [
                (name, line, signature or qualified) for name, qualified, line, signature in connection.execute(
                    "SELECT name, qualified_name, start_line, signature FROM symbols WHERE file_id = ?", (file_id,))]
        return rows

    def _read(self, connection: sqlite3.Connection, keys: list[Key]) -> None:
        wanted = set(keys)
        found: dict[Key, list[Line]] = defaultdict(list)
        files = sorted({file_id for file_id, _ in keys})
        names = sorted({name for _, name in keys})
        rows = connection.execute(
            f"""SELECT file_id, name, qualified_name, start_line, signature FROM symbols
            WHERE file_id IN ({",".join("?" * len(files))}) AND name IN ({",".join("?" * len(names))})""",
            [*files, *names])
        for file_id, name, qualified, line, signature in rows:
            if (file_id, name) in wanted:
                found[(file_id, name)].append((line, signature or qualified))
        for key in keys:
            self._by_key[key] = found.get(key, [])
