"""The model's tools: rebuild the index, search symbols, list references, outline a file,
show the repo map. Each reads the shared ``WorkspaceIndex`` and answers JSON text."""

from __future__ import annotations

import json
import sqlite3
from typing import Annotated, Any, Literal

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_indexer.db import search_symbols, symbol_rows
from lynkr_indexer.workspace import WorkspaceIndex

Kind = Literal["function", "method", "class", "struct", "interface", "trait", "enum", "union", "type",
               "module", "namespace", "macro", "constant", "constructor"]


class _IndexTool(Tool):
    """A tool over the shared index; starts and closes it with the server."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index

    async def start(self, services: Any) -> None:
        """Open the shared index (the first user opens it)."""
        await self.index.start(services)

    async def close(self) -> None:
        """Close the shared index (the last user closes it)."""
        await self.index.close()

    def effects(self, args: Any) -> ToolEffects:
        """Reads the index, changes nothing in the workspace."""
        return ToolEffects()


class RebuildInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_index_rebuild."""

    full: Annotated[bool, msgspec.Meta(description="Parse every file again instead of only the changed ones.")] = False


class RebuildIndex(_IndexTool):
    name = "workspace_index_rebuild"
    description = (
        "Re-index the workspace's source code (definitions, references, imports, frameworks, tests): "
        "only changed files are parsed unless full is true. Returns what was indexed."
    )
    Input = RebuildInput

    async def run(self, args: RebuildInput, context: ToolContext) -> str:
        """Re-index and report counts."""
        if args.full:
            await self.index.read(lambda c: c.execute("UPDATE files SET hash = '', mtime_ns = 0"))
        report = await self.index.refresh()
        totals = await self.index.read(_totals)
        return json.dumps({"indexed": report.as_dict(), "totals": totals})


def _totals(connection: sqlite3.Connection) -> dict[str, Any]:
    files, symbols = connection.execute("SELECT COUNT(*), COALESCE(SUM(symbols), 0) FROM files WHERE status = 'indexed'").fetchone()
    references = connection.execute("SELECT COUNT(*) FROM refs").fetchone()[0]
    return {"files": files, "symbols": symbols, "references": references}


class SymbolSearchInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_symbol_search."""

    query: Annotated[str, msgspec.Meta(min_length=1, description="A symbol name or its beginning, e.g. 'parse' or 'Http'.")]
    kind: Annotated[Kind | None, msgspec.Meta(description="Only definitions of this kind.")] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100, description="How many results (default 20).")] = 20


class SymbolSearch(_IndexTool):
    name = "workspace_symbol_search"
    description = (
        "Find where functions, classes, methods, types and other symbols are defined in the workspace, "
        "by name or name prefix (case-insensitive), optionally of one kind. Results are ranked: exact "
        "names first, then by how often the code refers to them. Each gives path, line, kind, "
        "qualified name, signature and the first docstring line."
    )
    Input = SymbolSearchInput

    async def run(self, args: SymbolSearchInput, context: ToolContext) -> str:
        """Matching definitions as JSON."""
        await self.index.ensure_fresh()
        rows = await self.index.read(lambda c: search_symbols(c, args.query, kind=args.kind, limit=args.limit))
        return json.dumps({"query": args.query, "results": [r.as_dict() for r in rows]})


class ReferencesInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_symbol_references."""

    name: Annotated[str, msgspec.Meta(min_length=1, description="The symbol's name, e.g. 'parse_file'.")]
    path: Annotated[str | None, msgspec.Meta(description="Only the definition in this file (relative path).")] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=500, description="How many references (default 100).")] = 100


class SymbolReferences(_IndexTool):
    name = "workspace_symbol_references"
    description = (
        "List where a symbol is used: calls, imports, inheritance and type uses, with path, line and the "
        "enclosing definition. References resolved to the definition are marked; a name defined in "
        "several places also lists unresolved uses of the name."
    )
    Input = ReferencesInput

    async def run(self, args: ReferencesInput, context: ToolContext) -> str:
        """The definitions of the name and its references as JSON."""
        await self.index.ensure_fresh()
        return json.dumps(await self.index.read(lambda c: _references(c, args)))


def _references(connection: sqlite3.Connection, args: ReferencesInput) -> dict[str, Any]:
    where, params = "s.name = ?", (args.name,)
    if args.path:
        where, params = "s.name = ? AND f.path = ?", (args.name, args.path)
    definitions = symbol_rows(connection, where, params)
    ids = [d.id for d in definitions]
    rows = connection.execute(
        f"""SELECT f.path, r.line, r.kind, r.scope, r.target_id FROM refs r JOIN files f ON f.id = r.file_id
        WHERE r.name = ? AND (r.target_id IS NULL OR r.target_id IN ({",".join("?" * len(ids)) or "NULL"}))
        ORDER BY f.path, r.line LIMIT ?""", (args.name, *ids, args.limit)).fetchall()
    return {
        "name": args.name,
        "definitions": [d.as_dict() for d in definitions],
        "references": [{"path": p, "line": line, "kind": kind, "in": scope or None, "resolved": target is not None}
                       for p, line, kind, scope, target in rows],
    }


class OutlineInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_file_outline."""

    path: Annotated[str, msgspec.Meta(min_length=1, description="A file relative to the workspace root.")]


class FileOutline(_IndexTool):
    name = "workspace_file_outline"
    description = (
        "Outline one source file from the index: its definitions in order with kind, line range, "
        "signature and first docstring line, and the modules it imports."
    )
    Input = OutlineInput

    def effects(self, args: OutlineInput) -> ToolEffects:
        """Reads the file's entry in the index (policies may hide the path)."""
        return ToolEffects(reads=(args.path,))

    async def run(self, args: OutlineInput, context: ToolContext) -> str:
        """The outline as JSON."""
        if not context.visible(args.path):
            raise ToolError(f"{args.path}: not available")
        await self.index.ensure_fresh()
        outline = await self.index.read(lambda c: _outline(c, args.path))
        if outline is None:
            raise ToolError(f"{args.path}: not in the index (not a source file lynkr parses, ignored, or missing)")
        return json.dumps(outline)


def _outline(connection: sqlite3.Connection, path: str) -> dict[str, Any] | None:
    file = connection.execute("SELECT id, language, lines, status, note FROM files WHERE path = ?", (path,)).fetchone()
    if file is None:
        return None
    symbols = connection.execute(
        """SELECT name, kind, qualified_name, start_line, end_line, signature, doc FROM symbols
        WHERE file_id = ? ORDER BY start_line""", (file["id"],)).fetchall()
    imports = connection.execute(
        """SELECT i.module, t.path FROM imports i LEFT JOIN files t ON t.id = i.target_file_id
        WHERE i.file_id = ? ORDER BY i.line""", (file["id"],)).fetchall()
    return {
        "path": path, "language": file["language"], "lines": file["lines"], "status": file["status"],
        "note": file["note"] or None,
        "symbols": [{"name": s[0], "kind": s[1], "qualified_name": s[2], "lines": [s[3], s[4]],
                     "signature": s[5], "doc": s[6] or None} for s in symbols],
        "imports": [{"module": m, "path": p} for m, p in imports],
    }


class RepoMapInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_repo_map."""

    max_tokens: Annotated[int, msgspec.Meta(ge=64, le=16_000, description="Token budget of the map (default 2048).")] = 2048
    focus: Annotated[str | None, msgspec.Meta(description="Text naming files or symbols to rank higher, e.g. a task description.")] = None


class RepoMap(_IndexTool):
    name = "workspace_repo_map"
    description = (
        "A map of the repository: the most important files and their key definitions (with line "
        "numbers and signatures), ranked by how much the rest of the code refers to them and fitted "
        "to a token budget. Give focus to rank files and symbols it names higher."
    )
    Input = RepoMapInput

    async def run(self, args: RepoMapInput, context: ToolContext) -> str:
        """The map, as text."""
        await self.index.ensure_fresh()

        def render(connection: sqlite3.Connection) -> str:
            mapper, generation = self.index.mapper, self.index.generation(connection)
            mentioned = mapper.mentioned_files(connection, generation, args.focus) if args.focus else frozenset()
            return mapper.render(connection, generation, budget=args.max_tokens, mentioned=mentioned)

        text = await self.index.read(render)
        return text or "The index is empty: no source files were found in the workspace (or indexing has not finished)."


def index_tools(index: WorkspaceIndex) -> list[Tool]:
    """The five tools, sharing ``index``."""
    return [RebuildIndex(index), SymbolSearch(index), SymbolReferences(index), FileOutline(index), RepoMap(index)]
