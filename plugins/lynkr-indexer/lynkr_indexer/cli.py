"""``lynkr index [PATH]`` (with a progress line), ``lynkr index stats``, ``lynkr index
search NAME`` and ``lynkr claude-md [--write PATH] [--force]``.

They open the database the server uses for the same workspace (WAL lets both work)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lynkr_core import Settings
from lynkr_indexer.config import db_path, load_settings, workspace_root
from lynkr_indexer.db import connect, get_meta, search_symbols
from lynkr_indexer.indexer import index_workspace
from lynkr_indexer.repomap import RepoMapper
from lynkr_indexer.summary import claude_md, is_generated


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
    """``lynkr index [PATH] | stats | search NAME``."""
    parser.add_argument("words", nargs="*", metavar="PATH | stats | search NAME",
                        help="a folder to index (default WORKSPACE_ROOT), or 'stats', or 'search NAME'")
    parser.add_argument("--root", help="the workspace whose index 'stats' and 'search' read (default WORKSPACE_ROOT)")
    parser.add_argument("--kind", help="search: only definitions of this kind (function, class, ...)")
    parser.add_argument("--limit", type=int, default=20, help="search: how many results (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    """Index, or show the index's statistics, or search it."""
    words = list(args.words)
    if words and words[0] == "stats":
        return _stats(args, settings)
    if words and words[0] == "search":
        if len(words) != 2:
            print("usage: lynkr index search NAME", file=sys.stderr)
            return 2
        return _search(args, settings, words[1])
    if len(words) > 1:
        print("usage: lynkr index [PATH]", file=sys.stderr)
        return 2
    root = Path(words[0]).expanduser().resolve() if words else workspace_root(settings)
    if not root.is_dir():
        print(f"lynkr index: {root} is not a folder", file=sys.stderr)
        return 2
    config = load_settings(settings)
    connection = connect(db_path(settings.core.home, root))
    bar = _ProgressBar(enabled=not args.json and sys.stderr.isatty())
    try:
        report = index_workspace(connection, root, config.options(), bar.update)
    finally:
        bar.finish()
        connection.close()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        rate = report.parsed / report.seconds if report.seconds else 0.0
        print(f"indexed {root}: {report.files} files ({report.parsed} parsed, "
              f"{report.files - report.parsed - report.skipped - report.errors} unchanged, "
              f"{report.removed} removed, {report.skipped} skipped, {report.errors} failed), {report.symbols} symbols, "
              f"{report.references} references in {report.seconds:.2f}s ({rate:.0f} files/s)")
    return 0


class _ProgressBar:
    """One line on stderr: files done, symbols found, files per second."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()
        self.shown = False

    def update(self, done: int, total: int, symbols: int) -> None:
        if not self.enabled or total == 0:
            return
        width = 30
        filled = int(width * done / total)
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files, {symbols} symbols, "
                         f"{done / elapsed:.0f} files/s ")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _open_existing(args: argparse.Namespace, settings: Settings):
    root = Path(args.root).expanduser().resolve() if args.root else workspace_root(settings)
    path = db_path(settings.core.home, root)
    if not path.exists():
        print(f"no index of {root} yet: run lynkr index {root}", file=sys.stderr)
        return root, None
    return root, connect(path)


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    root, connection = _open_existing(args, settings)
    if connection is None:
        return 1
    try:
        status = dict(connection.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall())
        stats = {
            "root": str(root),
            "files": status,
            "symbols": connection.execute("SELECT COUNT(*) FROM symbols").fetchone()[0],
            "references": connection.execute("SELECT COUNT(*) FROM refs").fetchone()[0],
            "resolved_references": connection.execute("SELECT COUNT(target_id) FROM refs").fetchone()[0],
            "languages": get_meta(connection, "languages", []),
            "frameworks": [f["name"] for f in get_meta(connection, "frameworks", [])],
            "tests": get_meta(connection, "tests", {}),
            "indexed_at": get_meta(connection, "indexed_at"),
            "database_bytes": db_path(settings.core.home, root).stat().st_size,
        }
    finally:
        connection.close()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"index of {stats['root']}")
    print("files: " + ", ".join(f"{n} {s}" for s, n in sorted(stats["files"].items())))
    print(f"symbols: {stats['symbols']}, references: {stats['references']} ({stats['resolved_references']} resolved)")
    print("languages: " + ", ".join(f"{i['language']} {i['files']}" for i in stats["languages"]))
    if stats["frameworks"]:
        print("frameworks: " + ", ".join(stats["frameworks"]))
    if stats["tests"].get("command"):
        print(f"tests: {stats['tests']['files']} files, run with {stats['tests']['command']}")
    print(f"database: {stats['database_bytes'] / 1e6:.1f} MB")
    return 0


def _search(args: argparse.Namespace, settings: Settings, name: str) -> int:
    _, connection = _open_existing(args, settings)
    if connection is None:
        return 1
    try:
        rows = search_symbols(connection, name, kind=args.kind, limit=args.limit)
    finally:
        connection.close()
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        return 0
    if not rows:
        print(f"no symbol matches {name!r}")
        return 1
    for row in rows:
        print(f"{row.path}:{row.start_line}: {row.kind} {row.qualified_name}  {row.signature}")
    return 0


def add_claude_md_arguments(parser: argparse.ArgumentParser) -> None:
    """``lynkr claude-md [--write PATH] [--force]``."""
    parser.add_argument("--write", metavar="PATH", nargs="?", const="CLAUDE.md",
                        help="write it to PATH (default CLAUDE.md in the workspace) instead of printing it")
    parser.add_argument("--force", action="store_true", help="overwrite a CLAUDE.md that was written by hand")
    parser.add_argument("--root", help="the workspace (default WORKSPACE_ROOT)")
    parser.add_argument("--tokens", type=int, default=1500, help="token budget of its repo map (default 1500)")


def run_claude_md(args: argparse.Namespace, settings: Settings) -> int:
    """Index the workspace (what changed), then print or write its CLAUDE.md."""
    root = Path(args.root).expanduser().resolve() if args.root else workspace_root(settings)
    if not root.is_dir():
        print(f"lynkr claude-md: {root} is not a folder", file=sys.stderr)
        return 2
    target = None
    if args.write is not None:
        target = Path(args.write)
        target = target if target.is_absolute() else root / target
        if not args.force and not is_generated(target):
            print(f"{target} was written by hand; not overwriting it (use --force)", file=sys.stderr)
            return 1
    connection = connect(db_path(settings.core.home, root))
    try:
        index_workspace(connection, root, load_settings(settings).options())
        generation = int(get_meta(connection, "generation", 0))
        text = claude_md(connection, root, RepoMapper().render(connection, generation, budget=args.tokens))
    finally:
        connection.close()
    if target is None:
        sys.stdout.write(text)
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text)} bytes)")
    return 0
