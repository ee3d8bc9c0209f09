"""The memory database: memories with an FTS5 index (Porter stemming), the entities seen,
and what lifecycle rules prune.

One ``MemoryStore`` per connection, used from one thread. Writes are each one
``write_transaction``; a superseded memory stays (its ``superseded_by`` names the newer
one) as history and is never retrieved again.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from lynkr_core import open_sqlite, write_transaction

DAY = 86400.0
_COLUMNS = ("id, session_id, scope, content, type, subject, importance, surprise_score, access_count, "
            "created_at, updated_at, last_accessed_at, superseded_by, source")


@dataclass(frozen=True, slots=True)
class Memory:
    """One stored memory."""

    id: int
    session_id: str | None
    scope: str
    content: str
    type: str
    subject: str
    importance: float
    surprise: float
    access_count: int
    created_at: float
    updated_at: float
    last_accessed_at: float | None
    superseded_by: int | None
    source: str

    @property
    def active(self) -> bool:
        """Not superseded: it may be retrieved."""
        return self.superseded_by is None

    def as_json(self) -> dict[str, object]:
        """The memory as JSON data (tools, CLI, export)."""
        return {"id": self.id, "session_id": self.session_id, "scope": self.scope, "type": self.type,
                "content": self.content, "subject": self.subject, "importance": round(self.importance, 3),
                "surprise": round(self.surprise, 3), "access_count": self.access_count,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "superseded_by": self.superseded_by, "source": self.source}


@dataclass(frozen=True, slots=True)
class NewMemory:
    """A memory to store."""

    content: str
    type: str
    subject: str = ""
    importance: float = 0.5
    surprise: float = 0.0
    session_id: str | None = None
    scope: str = "global"
    source: str = "extracted"
    entities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Stats:
    """What ``memory_stats`` and ``lynkr memory stats`` report."""

    active: int
    superseded: int
    by_type: dict[str, int]
    sessions: int
    entities: int
    oldest: float | None
    newest: float | None
    bytes: int

    def as_json(self) -> dict[str, object]:
        """The figures as JSON data."""
        return {"active": self.active, "superseded": self.superseded, "by_type": self.by_type,
                "sessions": self.sessions, "entities": self.entities, "oldest": self.oldest,
                "newest": self.newest, "bytes": self.bytes}


class MemoryStore:
    """The memory tables in one SQLite file (created on first use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.connection = open_sqlite(path)
        self.connection.execute("PRAGMA cache_size = -32000")
        self._create()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def _create(self) -> None:
        db = sqlite_utils.Database(self.connection)
        if "memories" in db.table_names():
            return
        with write_transaction(self.connection):
            db["memories"].create({
                "id": int, "session_id": str, "scope": str, "content": str, "type": str, "subject": str,
                "importance": float, "surprise_score": float, "access_count": int, "decay_factor": float,
                "created_at": float, "updated_at": float, "last_accessed_at": float,
                "superseded_by": int, "source": str, "metadata": str,
            }, pk="id", not_null={"content", "type", "scope"},
               defaults={"importance": 0.5, "access_count": 0, "decay_factor": 1.0, "scope": "global",
                         "subject": "", "source": "extracted"})
            db["memories"].create_index(["superseded_by", "session_id"])
            db["memories"].create_index(["superseded_by", "scope", "created_at"])
            db["memories"].create_index(["type", "subject"])
            db["memories"].create_index(["created_at"])
            db["memories"].enable_fts(["content"], tokenize="porter unicode61",
                                      create_triggers=True)
            db["memory_entities"].create({
                "entity_type": str, "entity_name": str, "first_seen": float, "last_seen": float,
                "occurrence_count": int,
            }, pk=("entity_type", "entity_name"))

    # ------------------------------------------------------------- writing

    def add(self, memory: NewMemory, *, supersedes: Iterable[int] = (), now: float | None = None) -> int:
        """Store ``memory`` (and its entities); the memories it ``supersedes`` become history."""
        now = time.time() if now is None else now
        with write_transaction(self.connection):
            cursor = self.connection.execute(
                "INSERT INTO memories (session_id, scope, content, type, subject, importance, surprise_score,"
                " access_count, decay_factor, created_at, updated_at, source, metadata)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1.0, ?, ?, ?, '{}')",
                (memory.session_id, memory.scope, memory.content, memory.type, memory.subject,
                 memory.importance, memory.surprise, now, now, memory.source),
            )
            new_id = int(cursor.lastrowid or 0)
            for old in supersedes:
                self.connection.execute(
                    "UPDATE memories SET superseded_by = ?, updated_at = ? WHERE id = ? AND superseded_by IS NULL",
                    (new_id, now, old))
            self._seen_entities(memory.entities, now)
        return new_id

    def _seen_entities(self, entities: Iterable[tuple[str, str]], now: float) -> None:
        self.connection.executemany(
            "INSERT INTO memory_entities (entity_type, entity_name, first_seen, last_seen, occurrence_count)"
            " VALUES (?, ?, ?, ?, 1) ON CONFLICT (entity_type, entity_name)"
            " DO UPDATE SET last_seen = excluded.last_seen, occurrence_count = occurrence_count + 1",
            [(kind, name, now, now) for kind, name in entities])

    def forget(self, memory_id: int) -> bool:
        """Delete a memory with the history it superseded (nothing it replaced comes back);
        ``False`` when there is none by that id."""
        doomed = [memory_id, *(m.id for m in self.history(memory_id))]
        with write_transaction(self.connection):
            deleted = self.connection.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount
            self.connection.executemany("DELETE FROM memories WHERE id = ?", [(i,) for i in doomed[1:]])
        return deleted > 0

    def touch(self, ids: Sequence[int], now: float | None = None) -> None:
        """Count one more retrieval of each of ``ids``."""
        if not ids:
            return
        now = time.time() if now is None else now
        with write_transaction(self.connection):
            self.connection.executemany(
                "UPDATE memories SET access_count = access_count + 1, last_accessed_at = ? WHERE id = ?",
                [(now, memory_id) for memory_id in ids])

    def prune(self, *, max_age_days: float, max_count: int, decay_half_life: float | None,
              now: float | None = None, min_decayed_importance: float = 0.05) -> list[int]:
        """Delete what the lifecycle rules drop, returning the ids: memories older than
        ``max_age_days`` (0: no limit), history past that age too, memories whose importance
        has decayed below ``min_decayed_importance`` (when ``decay_half_life`` is set), and the
        least valuable active ones beyond ``max_count`` (0: no limit)."""
        now = time.time() if now is None else now
        doomed: set[int] = set()
        if max_age_days > 0:
            cutoff = now - max_age_days * DAY
            doomed.update(r[0] for r in self.connection.execute(
                "SELECT id FROM memories WHERE created_at < ?", (cutoff,)))
        if decay_half_life:
            for memory_id, importance, created in self.connection.execute(
                    "SELECT id, importance, created_at FROM memories WHERE superseded_by IS NULL"):
                if decayed(importance, now - created, decay_half_life) < min_decayed_importance:
                    doomed.add(memory_id)
        if max_count > 0:
            rows = self.connection.execute(
                "SELECT id, importance, created_at FROM memories WHERE superseded_by IS NULL").fetchall()
            alive = [row for row in rows if row[0] not in doomed]
            if len(alive) > max_count:
                half_life = decay_half_life or math.inf
                alive.sort(key=lambda r: (decayed(r[1], now - r[2], half_life), r[2], r[0]))
                doomed.update(row[0] for row in alive[: len(alive) - max_count])
        if doomed:
            with write_transaction(self.connection):
                self.connection.executemany("DELETE FROM memories WHERE id = ?", [(i,) for i in doomed])
                self.connection.execute(
                    "DELETE FROM memories WHERE superseded_by IS NOT NULL"
                    " AND superseded_by NOT IN (SELECT id FROM memories)")
        return sorted(doomed)

    # ------------------------------------------------------------- reading

    def get(self, ids: Iterable[int]) -> dict[int, Memory]:
        """The memories with these ids (missing ones left out)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.connection.execute(f"SELECT {_COLUMNS} FROM memories WHERE id IN ({marks})", wanted)
        return {row[0]: Memory(*row) for row in rows}

    def term_matches(self, term: str, limit: int) -> list[int]:
        """The ids of the ``limit`` newest memories (active or not) whose text matches one FTS5
        ``term`` (a quoted string, ``text.fts_terms``): FTS5 reads the term's list from its
        end and stops, so a word found in thousands of memories costs no more than a rare one."""
        try:
            rows = self.connection.execute(
                "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                (term, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
        return [row[0] for row in rows]

    def size(self) -> int:
        """About how many memories there are (the highest id: cheap, never an undercount)."""
        return int(self.connection.execute("SELECT coalesce(max(id), 0) FROM memories").fetchone()[0])

    def visible(self, ids: Iterable[int], session_id: str | None, *, include_global: bool) -> dict[int, Memory]:
        """The active memories among ``ids`` that ``session_id`` may see."""
        return {i: m for i, m in self.get(ids).items()
                if m.active and ((m.session_id == session_id and session_id is not None)
                                 or (include_global and m.scope == "global"))}

    def recent(self, session_id: str | None, limit: int) -> list[Memory]:
        """The latest active memories of ``session_id`` (or every session), newest first."""
        if session_id is None:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE superseded_by IS NULL ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE superseded_by IS NULL AND session_id = ?"
                " ORDER BY id DESC LIMIT ?", (session_id, limit))
        return [Memory(*row) for row in rows]

    def same_subject(self, memory_type: str, subject: str) -> list[Memory]:
        """Active memories of ``memory_type`` about ``subject``."""
        if not subject:
            return []
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM memories WHERE type = ? AND subject = ? AND superseded_by IS NULL",
            (memory_type, subject))
        return [Memory(*row) for row in rows]

    def active_texts(self) -> list[tuple[int, str]]:
        """``(id, content)`` of every active memory (retrievers index them)."""
        return [(r[0], r[1]) for r in self.connection.execute(
            "SELECT id, content FROM memories WHERE superseded_by IS NULL ORDER BY id")]

    def all(self, *, include_history: bool = True) -> list[Memory]:
        """Every memory, oldest first (export)."""
        where = "" if include_history else " WHERE superseded_by IS NULL"
        return [Memory(*row) for row in self.connection.execute(f"SELECT {_COLUMNS} FROM memories{where} ORDER BY id")]

    def history(self, memory_id: int) -> list[Memory]:
        """The memories ``memory_id`` superseded, directly or through others, newest first."""
        found: list[Memory] = []
        current = [memory_id]
        while current:
            marks = ",".join("?" * len(current))
            rows = [Memory(*r) for r in self.connection.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE superseded_by IN ({marks}) ORDER BY id DESC", current)]
            found.extend(rows)
            current = [m.id for m in rows]
        return found

    def stats(self) -> Stats:
        """Counts, by type, and the database's size."""
        c = self.connection
        active = c.execute("SELECT count(*) FROM memories WHERE superseded_by IS NULL").fetchone()[0]
        superseded = c.execute("SELECT count(*) FROM memories WHERE superseded_by IS NOT NULL").fetchone()[0]
        by_type = dict(c.execute(
            "SELECT type, count(*) FROM memories WHERE superseded_by IS NULL GROUP BY type ORDER BY type").fetchall())
        sessions = c.execute("SELECT count(DISTINCT session_id) FROM memories").fetchone()[0]
        entities = c.execute("SELECT count(*) FROM memory_entities").fetchone()[0]
        oldest, newest = c.execute("SELECT min(created_at), max(created_at) FROM memories").fetchone()
        pages = c.execute("PRAGMA page_count").fetchone()[0] * c.execute("PRAGMA page_size").fetchone()[0]
        return Stats(active, superseded, by_type, sessions, entities, oldest, newest, pages)


def decayed(importance: float, age_seconds: float, half_life_days: float) -> float:
    """``importance`` halved every ``half_life_days`` of age."""
    if not math.isfinite(half_life_days):
        return importance
    return importance * 0.5 ** (max(0.0, age_seconds) / (half_life_days * DAY))


def dumps(memory: Memory) -> str:
    """One memory as a JSON line."""
    return json.dumps(memory.as_json(), ensure_ascii=False)
