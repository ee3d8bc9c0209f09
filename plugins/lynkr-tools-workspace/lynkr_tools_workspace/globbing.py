"""``workspace_glob``: files and directories whose path matches a glob pattern."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.patterns import compile_glob, expand_braces, literal_prefix
from lynkr_tools_workspace.units import plural
from lynkr_tools_workspace.walk import HEAVY_DIRS, Entry, Walk

#: Matches returned at most.
MAX_MATCHES = 500


class GlobInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_glob."""

    pattern: Annotated[
        str,
        msgspec.Meta(
            description="Glob pattern relative to path, e.g. 'src/**/*.py' ('**' matches any "
            "number of directories), '*.md' (top level only), 'tests/test_*.{py,txt}'."
        ),
    ]
    path: Annotated[
        str, msgspec.Meta(description="Directory the pattern is relative to; '.' (the workspace root) by default.")
    ] = "."


class GlobFiles(Tool):
    """Finds workspace paths by glob pattern."""

    name = "workspace_glob"
    capability = "glob"
    description = (
        "Find files and directories in the workspace whose path matches a glob pattern, such as "
        "'**/*.py' or 'src/**/test_*.ts'. Returns matching paths relative to the workspace root, "
        f"sorted, one per line (directories end with '/'), at most {MAX_MATCHES}. Symlinked "
        "directories are not followed; .git, node_modules, .venv, dist, build and similar are "
        "skipped unless the pattern names them. Use workspace_search to search file contents."
    )
    Input = GlobInput

    def effects(self, args: GlobInput) -> ToolEffects:
        """Reads under ``path``."""
        return ToolEffects(reads=(args.path,))

    async def run(self, args: GlobInput, context: ToolContext) -> str:
        """Matching paths, found in a worker thread."""
        pattern = _checked(args.pattern)
        base = context.resolve(args.path)
        if not base.is_dir():
            raise ToolError(f"{args.path!r} is not a directory of the workspace")
        prefix = literal_prefix(pattern)
        start = context.resolve(str(PurePosixPath(args.path, *prefix))) if prefix else base
        rest = "/".join(pattern.split("/")[len(prefix) :])
        matches, cut = await asyncio.to_thread(_find, start, rest, context.workspace, context.visible)
        if not matches:
            return f"No paths match {args.pattern!r} under {args.path!r}." + (f" ({cut})" if cut else "")
        lines = [f"{plural(len(matches), 'match', 'matches')} for {args.pattern!r}:", *matches]
        if cut:
            lines.append(f"[cut at {cut}; use a narrower pattern]")
        return "\n".join(lines)


def _checked(pattern: str) -> str:
    cleaned = pattern.strip().removeprefix("./").rstrip("/")
    if not cleaned or cleaned == ".":
        raise ToolError("the pattern is empty; give one such as '**/*.py'")
    if cleaned.startswith(("/", "~")):
        raise ToolError(f"{pattern!r}: the pattern must be relative to path, not absolute")
    if any(segment == ".." for expanded in expand_braces(cleaned) for segment in expanded.split("/")):
        raise ToolError(f"{pattern!r}: '..' is refused; patterns stay inside the workspace")
    return cleaned


def _find(
    start: Path, pattern: str, workspace: Path, visible: Callable[[str], bool]
) -> tuple[list[str], str]:
    if not start.is_dir():
        return [], ""
    expansions = expand_braces(pattern)
    regex = compile_glob(pattern)
    named = {segment for expanded in expansions for segment in expanded.split("/")}
    skipped = HEAVY_DIRS - named
    depth = None if any("**" in expanded for expanded in expansions) else max(
        len([s for s in expanded.split("/") if s not in ("", ".")]) for expanded in expansions
    )
    walk = Walk(
        start, max_depth=depth, enter=lambda entry: entry.path.name not in skipped,
        workspace=workspace, visible=visible,
    )
    prefix = "" if start == workspace else start.relative_to(workspace).as_posix() + "/"
    found: list[str] = []
    cut = ""
    for entry in walk:
        if not regex.match(entry.rel) or not _inside(entry, workspace):
            continue
        if len(found) == MAX_MATCHES:
            cut = f"{MAX_MATCHES} matches"
            break
        found.append(prefix + entry.rel + ("/" if entry.kind == "dir" else ""))
    found.sort()
    return found, cut or walk.stopped


def _inside(entry: Entry, workspace: Path) -> bool:
    """False for a symlink that leads out of the workspace (it is not reported)."""
    if entry.kind != "symlink":
        return True
    real = Path(os.path.realpath(entry.path))
    return real == workspace or workspace in real.parents
