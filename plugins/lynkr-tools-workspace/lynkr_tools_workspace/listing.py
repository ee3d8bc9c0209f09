"""``workspace_list``: what a directory holds, a few levels deep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.units import human_size, plural
from lynkr_tools_workspace.walk import HEAVY_DIRS, Entry, Walk

#: Entries shown at most.
MAX_ENTRIES = 500
MAX_DEPTH = 5


class ListInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_list."""

    path: Annotated[
        str, msgspec.Meta(description="Directory to list, relative to the workspace root ('.' for the root).")
    ] = "."
    depth: Annotated[
        int,
        msgspec.Meta(
            ge=1, le=MAX_DEPTH,
            description=f"How many levels to show: 1 lists the directory itself, 2 also what its "
            f"subdirectories hold, and so on (at most {MAX_DEPTH}).",
        ),
    ] = 1


class ListDirectory(Tool):
    """Lists a directory of the workspace."""

    name = "workspace_list"
    capability = "list"
    description = (
        "List a directory of the workspace: one entry per line, indented by level, with its type "
        "(dir, file, symlink or other) and a file's size; directories first, then by name. "
        f"Shows up to {MAX_ENTRIES} entries and says when more were left out. .git is skipped; "
        "dependency and build directories (node_modules, .venv, dist, ...) are listed but not "
        "expanded unless listed directly. Use workspace_glob to find files by name pattern."
    )
    Input = ListInput

    def effects(self, args: ListInput) -> ToolEffects:
        """Reads ``path``."""
        return ToolEffects(reads=(args.path,))

    async def run(self, args: ListInput, context: ToolContext) -> str:
        """The listing, in a worker thread."""
        directory = context.resolve(args.path)
        if not directory.is_dir():
            if directory.exists():
                raise ToolError(f"{args.path!r} is a file, not a directory; use workspace_read")
            raise ToolError(f"{args.path!r}: no such directory in the workspace")
        return await asyncio.to_thread(
            _listing, directory, args.path, args.depth, context.workspace, context.visible
        )


def _listing(
    directory: Path, shown: str, depth: int, workspace: Path, visible: Callable[[str], bool]
) -> str:
    walk = Walk(
        directory, max_depth=depth, enter=lambda entry: _name(entry) not in HEAVY_DIRS,
        workspace=workspace, visible=visible,
    )
    lines: list[str] = []
    cut = ""
    for entry in walk:
        if _name(entry) == ".git":
            continue
        if len(lines) == MAX_ENTRIES:
            cut = f"the limit of {MAX_ENTRIES} entries"
            break
        lines.append(_line(entry))
    cut = cut or walk.stopped
    header = f"{shown.rstrip('/') or '.'}/: {plural(len(lines), 'entry', 'entries')}"
    if depth > 1:
        header += f", {depth} levels deep"
    if not lines:
        return header + " (empty)"
    notes = []
    if cut:
        notes.append(f"[cut at {cut}; list a subdirectory, lower depth, or use workspace_glob]")
    if walk.hidden:
        notes.append(f"[{plural(walk.hidden, 'entry', 'entries')} hidden by a policy]")
    if walk.unreadable:
        notes.append(f"[{plural(walk.unreadable, 'directory', 'directories')} could not be read]")
    return "\n".join([header, *lines, *notes])


def _name(entry: Entry) -> str:
    return entry.rel.rsplit("/", 1)[-1]


def _line(entry: Entry) -> str:
    indent = "  " * (entry.depth - 1)
    name = _name(entry)
    if entry.kind == "dir":
        return f"{indent}{name}/  dir"
    if entry.kind == "file":
        return f"{indent}{name}  file  {human_size(entry.size)}"
    return f"{indent}{name}  {entry.kind}"
