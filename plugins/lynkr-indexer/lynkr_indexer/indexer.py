"""Bringing the index of a workspace up to date: walk, compare with what is stored
(mtime and size, then the content hash), parse what changed in worker processes, write
it, forget deleted files, and resolve imports and references again where a change can
have moved them."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lynkr_core import insert_rows, write_transaction
from lynkr_indexer import project
from lynkr_indexer.db import create_indexes, drop_indexes, get_meta, set_meta
from lynkr_indexer.parse import Parsed, Task, parse_batch, parse_file
from lynkr_indexer.resolve import FileLookup, resolve_import, resolve_references
from lynkr_indexer.walk import DEFAULT_EXCLUDE, walk

#: Called as files are done: (files done, files to parse, symbols found so far).
Progress = Callable[[int, int, int], None]

_BATCH = 24  # files per round trip to a worker process
_BULK_LOAD = 500  # a first index of this many files loads without secondary indexes


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """How to index: patterns to exclude, the largest file parsed, worker processes (0: one
    per CPU) and from how many changed files on the pool is used instead of this process."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    max_file_bytes: int = 1_000_000
    workers: int = 0
    pool_threshold: int = 48


@dataclass(slots=True)
class IndexReport:
    """What one run did."""

    files: int = 0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    errors: int = 0
    symbols: int = 0
    references: int = 0
    seconds: float = 0.0
    generation: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.parsed or self.removed)

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "parsed": self.parsed, "unchanged": self.unchanged,
                "removed": self.removed, "skipped": self.skipped, "errors": self.errors,
                "symbols": self.symbols, "references": self.references,
                "seconds": round(self.seconds, 3), "generation": self.generation}


class IndexCancelled(Exception):
    """``cancel`` was set: the run stopped between two batches (what was written stays)."""


@dataclass(slots=True)
class _Plan:
    """What a run must do: files to parse, files too large to, files gone."""

    stored: dict[str, sqlite3.Row]
    seen: set[str] = field(default_factory=set)
    tasks: list[Task] = field(default_factory=list)
    oversized: list[Parsed] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


def index_workspace(
    connection: sqlite3.Connection, root: Path, options: IndexOptions = IndexOptions(),
    progress: Progress | None = None, *, cancel: threading.Event | None = None,
) -> IndexReport:
    """Bring the index in ``connection`` up to date with ``root``; blocking (run it in a
    thread). ``cancel`` set stops it between batches (``IndexCancelled``); the next run
    picks up what is left."""
    started = time.perf_counter()
    plan = _plan(connection, root, options)
    report = IndexReport(files=len(plan.seen), removed=len(plan.removed))
    affected_names: set[str] = set()
    changed_ids: list[int] = []
    bulk = not plan.stored and len(plan.tasks) >= _BULK_LOAD
    with write_transaction(connection):
        if bulk:
            drop_indexes(connection)
        affected_names |= _forget(connection, plan.removed)
    total, done = len(plan.tasks) + len(plan.oversized), 0
    for results in itertools.chain(_chunks(plan.oversized, 200), _parse(plan.tasks, options)):
        if cancel is not None and cancel.is_set():
            raise IndexCancelled(str(root))
        with write_transaction(connection):
            for parsed in results:
                _record(connection, parsed, plan.stored.get(parsed.path), report, affected_names, changed_ids)
        done += len(results)
        if progress is not None:
            progress(done, total, report.symbols)
    if bulk:
        with write_transaction(connection):
            create_indexes(connection)
    finished_before = get_meta(connection, "generation") is not None
    if plan.removed or changed_ids or not finished_before:
        full = (not finished_before or bool(plan.removed) or len(changed_ids) > 0.5 * max(1, report.files)
                or any(path not in plan.stored for path in plan.seen))
        with write_transaction(connection):
            _resolve(connection, changed_ids, affected_names, full=full)
            _summarise(connection, root)
            set_meta(connection, "generation", int(get_meta(connection, "generation", 0)) + 1)
            set_meta(connection, "indexed_at", time.time())
            set_meta(connection, "root", str(root))
    report.generation = int(get_meta(connection, "generation", 0))
    report.seconds = time.perf_counter() - started
    return report


def _plan(connection: sqlite3.Connection, root: Path, options: IndexOptions) -> _Plan:
    """Walk ``root`` and compare with what is stored: a file whose size and mtime are
    unchanged is skipped; the others are parsed (an unchanged hash is found by the worker)."""
    plan = _Plan({row["path"]: row for row in connection.execute(
        "SELECT id, path, size, mtime_ns, hash, status FROM files")})
    for candidate in walk(root, options.exclude):
        plan.seen.add(candidate.path)
        known = plan.stored.get(candidate.path)
        if known is not None and known["size"] == candidate.size and known["mtime_ns"] == candidate.mtime_ns:
            continue
        if candidate.size > options.max_file_bytes:
            note = f"too large ({candidate.size} bytes > {options.max_file_bytes})"
            plan.oversized.append(Parsed(candidate.path, candidate.language, candidate.size, candidate.mtime_ns,
                                         "", "skipped", note, 0, None))
            continue
        plan.tasks.append(Task(candidate.path, str(root / candidate.path), candidate.language, candidate.size,
                               candidate.mtime_ns, known["hash"] if known is not None else ""))
    plan.removed = [plan.stored[path]["id"] for path in plan.stored.keys() - plan.seen]
    return plan


def _record(connection: sqlite3.Connection, parsed: Parsed, known: sqlite3.Row | None, report: IndexReport,
            affected_names: set[str], changed_ids: list[int]) -> None:
    """Write one file's result and count it."""
    if parsed.status == "unchanged":
        connection.execute("UPDATE files SET mtime_ns = ?, size = ? WHERE id = ?",
                           (parsed.mtime_ns, parsed.size, known["id"]))
        report.unchanged += 1
        return
    file_id, names = _store(connection, parsed, known)
    affected_names |= names
    changed_ids.append(file_id)
    report.parsed += parsed.status == "indexed"
    report.skipped += parsed.status == "skipped"
    report.errors += parsed.status == "error"
    if parsed.extracted is not None:
        report.symbols += len(parsed.extracted.definitions)
        report.references += len(parsed.extracted.references)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _parse(tasks: list[Task], options: IndexOptions) -> Iterator[list[Parsed]]:
    """Parse results in batches: in this process for a few files, else in a process pool
    (spawned, so that it is safe to start from a thread of a running server)."""
    if len(tasks) < options.pool_threshold:
        for batch in _chunks(tasks, _BATCH):
            yield [parse_file(task) for task in batch]
        return
    workers = options.workers or os.cpu_count() or 1
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield from pool.map(parse_batch, _chunks(tasks, _BATCH))
    finally:  # also when the caller stops early: drop what has not started
        pool.shutdown(wait=True, cancel_futures=True)


def _forget(connection: sqlite3.Connection, file_ids: Iterable[int]) -> set[str]:
    """Delete files and everything extracted from them; the names they defined."""
    names: set[str] = set()
    for file_id in file_ids:
        names.update(row[0] for row in connection.execute("SELECT name FROM symbols WHERE file_id = ?", (file_id,)))
        for table in ("symbols", "refs", "imports"):
            connection.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        connection.execute("DELETE FROM files WHERE id = ?", (file_id,))
    return names


_SYMBOL_COLUMNS = ("file_id", "name", "kind", "qualified_name", "start_line", "end_line", "signature", "doc")
_REF_COLUMNS = ("file_id", "name", "kind", "line", "scope")
_IMPORT_COLUMNS = ("file_id", "module", "line")


def _store(connection: sqlite3.Connection, parsed: Parsed, known: sqlite3.Row | None) -> tuple[int, set[str]]:
    """Replace a file's record and what was extracted from it; the names it defined before
    and defines now (references to them may resolve differently)."""
    names: set[str] = set()
    extracted = parsed.extracted
    symbol_count = len(extracted.definitions) if extracted else 0
    row = (parsed.language, parsed.size, parsed.mtime_ns, parsed.hash, parsed.status, parsed.note,
           parsed.lines, symbol_count)
    if known is not None:
        file_id = known["id"]
        names.update(r[0] for r in connection.execute("SELECT name FROM symbols WHERE file_id = ?", (file_id,)))
        for table in ("symbols", "refs", "imports"):
            connection.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        connection.execute("""UPDATE files SET language = ?, size = ?, mtime_ns = ?, hash = ?, status = ?,
            note = ?, lines = ?, symbols = ? WHERE id = ?""", (*row, file_id))
    else:
        file_id = connection.execute("""INSERT INTO files (language, size, mtime_ns, hash, status, note,
            lines, symbols, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", (*row, parsed.path)).lastrowid
    if extracted is None:
        return file_id, names
    # one statement per table, not one step per row (``insert_rows``: each step is a wait
    # for the GIL on this thread while the event loop is busy)
    insert_rows(connection, "symbols", _SYMBOL_COLUMNS, [(file_id, *d) for d in extracted.definitions])
    insert_rows(connection, "refs", _REF_COLUMNS, [(file_id, *r) for r in extracted.references])
    insert_rows(connection, "imports", _IMPORT_COLUMNS, [(file_id, *i) for i in extracted.imports])
    names.update(d.name for d in extracted.definitions)
    return file_id, names


def _resolve(connection: sqlite3.Connection, changed: list[int], names: set[str], *, full: bool) -> None:
    """Resolve imports (all of them when files came or went, else the changed files') and
    then the references of changed files and every reference to a name whose definitions
    changed."""
    paths = {row[1]: row[0] for row in connection.execute("SELECT id, path FROM files WHERE status = 'indexed'")}
    languages = dict(connection.execute("SELECT id, language FROM files").fetchall())
    lookup = FileLookup(paths)
    by_id = {file_id: path for path, file_id in paths.items()}
    if full:
        rows = connection.execute("SELECT id, file_id, module FROM imports").fetchall()
    else:
        rows = [r for file_id in changed for r in connection.execute(
            "SELECT id, file_id, module FROM imports WHERE file_id = ?", (file_id,))]
    updates = []
    for import_id, file_id, module in rows:
        if file_id in by_id:
            target = resolve_import(lookup, languages[file_id], by_id[file_id], module)
            updates.append((target if target != file_id else None, import_id))
    connection.executemany("UPDATE imports SET target_file_id = ? WHERE id = ?", updates)
    if full:
        references = connection.execute("SELECT id, file_id, name FROM refs").fetchall()
    else:
        connection.execute("CREATE TEMP TABLE IF NOT EXISTS changed_names (name TEXT PRIMARY KEY)")
        connection.execute("DELETE FROM changed_names")
        connection.executemany("INSERT OR IGNORE INTO changed_names VALUES (?)", [(n,) for n in names])
        references = connection.execute(
            "SELECT id, file_id, name FROM refs WHERE name IN (SELECT name FROM changed_names)").fetchall()
        changed_set = set(changed)
        known_ids = {r[0] for r in references}
        for file_id in changed_set:
            references += [r for r in connection.execute("SELECT id, file_id, name FROM refs WHERE file_id = ?",
                                                         (file_id,)) if r[0] not in known_ids]
    imported: dict[int, set[int]] = {}
    importers = sorted({r[1] for r in references})
    sql = "SELECT file_id, target_file_id FROM imports WHERE target_file_id IS NOT NULL"
    chunks = [[]] if full else [importers[i:i + 500] for i in range(0, len(importers), 500)]
    for chunk in chunks:
        where = f" AND file_id IN ({','.join('?' * len(chunk))})" if not full else ""
        for file_id, target in connection.execute(sql + where, chunk):
            imported.setdefault(file_id, set()).add(target)
    wanted = {r[2] for r in references}
    definitions: dict[str, list[tuple[int, int]]] = {}
    if full:
        rows = connection.execute("SELECT id, name, file_id FROM symbols ORDER BY id")
    else:
        connection.execute("DELETE FROM changed_names")
        connection.executemany("INSERT OR IGNORE INTO changed_names VALUES (?)", [(n,) for n in wanted])
        rows = connection.execute("""SELECT id, name, file_id FROM symbols
            WHERE name IN (SELECT name FROM changed_names) ORDER BY id""")
    for symbol_id, name, file_id in rows:
        if name in wanted:
            definitions.setdefault(name, []).append((symbol_id, file_id))
    resolved = resolve_references(((r[0], r[1], r[2]) for r in references), definitions, imported)
    if full:
        connection.execute("UPDATE refs SET target_id = NULL WHERE target_id IS NOT NULL")
        connection.executemany("UPDATE refs SET target_id = ? WHERE id = ?", [r for r in resolved if r[0] is not None])
    else:
        connection.executemany("UPDATE refs SET target_id = ? WHERE id = ?", resolved)


def _summarise(connection: sqlite3.Connection, root: Path) -> None:
    """The language mix, frameworks, dependency patterns and test metadata, into ``meta``."""
    mix = [{"language": language, "files": files, "lines": lines or 0} for language, files, lines in connection.execute(
        """SELECT language, COUNT(*), SUM(lines) FROM files WHERE status = 'indexed'
        GROUP BY language ORDER BY COUNT(*) DESC, language""")]
    set_meta(connection, "languages", mix)
    roots: Counter[str] = Counter()
    for language, module in connection.execute(
            """SELECT f.language, i.module FROM imports i JOIN files f ON f.id = i.file_id
            WHERE i.target_file_id IS NULL"""):
        name = project.import_root(language, module)
        if name:
            roots[name] += 1
    manifests = project.manifest_dependencies(root)
    found = project.frameworks(manifests, roots)
    set_meta(connection, "manifests", manifests)
    set_meta(connection, "frameworks", found)
    set_meta(connection, "external_imports", roots.most_common(15))
    paths = [row[0] for row in connection.execute("SELECT path FROM files WHERE status = 'indexed' ORDER BY path")]
    tests = [path for path in paths if project.is_test_path(path)]
    set_meta(connection, "tests", project.test_metadata(root, tests, found, manifests))
    set_meta(connection, "dependencies", _module_dependencies(connection))


def _module_dependencies(connection: sqlite3.Connection, limit: int = 40) -> list[dict[str, object]]:
    """Which folders import which (the strongest edges between top-level modules)."""
    edges: Counter[tuple[str, str]] = Counter()
    for source, target in connection.execute(
            """SELECT a.path, b.path FROM imports i JOIN files a ON a.id = i.file_id
            JOIN files b ON b.id = i.target_file_id"""):
        edges[(_module_of(source), _module_of(target))] += 1
    ordered = sorted(((n, s, t) for (s, t), n in edges.items() if s != t), key=lambda e: (-e[0], e[1], e[2]))
    return [{"from": s, "to": t, "imports": n} for n, s, t in ordered[:limit]]


def _module_of(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0] if len(parts) > 1 else "."
