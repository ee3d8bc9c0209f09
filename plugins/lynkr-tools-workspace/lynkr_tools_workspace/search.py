"""``workspace_search``: lines matching a regular expression, like grep."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.patterns import compile_glob
from lynkr_tools_workspace.textfiles import open_regular
from lynkr_tools_workspace.units import human_size, plural
from lynkr_tools_workspace.walk import HEAVY_DIRS, Walk

#: Results returned at most, whatever max_results asks for.
HARD_MAX_RESULTS = 500
#: Files bigger than this are not searched.
MAX_FILE_BYTES = 1024 * 1024
#: Characters of a matching line shown at most.
MAX_LINE_CHARS = 300


class SearchInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_search."""

    pattern: Annotated[
        str,
        msgspec.Meta(
            description="Python regular expression to look for in each line, e.g. "
            r"'def \w+_handler' (or plain text with literal=true)."
        ),
    ]
    path: Annotated[
        str, msgspec.Meta(description="File or directory to search, relative to the workspace root; '.' by default.")
    ] = "."
    glob: Annotated[
        str | None,
        msgspec.Meta(
            description="Only search files matching this glob: '*.py' matches file names, "
            "'src/**/*.ts' paths relative to path."
        ),
    ] = None
    case_sensitive: Annotated[bool, msgspec.Meta(description="Match case exactly (default true).")] = True
    literal: Annotated[
        bool, msgspec.Meta(description="Treat pattern as plain text, not a regular expression.")
    ] = False
    max_results: Annotated[
        int,
        msgspec.Meta(ge=1, description=f"Matching lines to return at most (default 100, capped at {HARD_MAX_RESULTS})."),
    ] = 100


@dataclass(slots=True)
class Findings:
    """What one search found (path, line number, text) and left out."""

    lines: list[tuple[str, int, str]] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    searched: int = 0
    binary: int = 0
    large: int = 0
    full: bool = False
    stopped: str = ""


class SearchFiles(Tool):
    """Searches file contents of the workspace."""

    name = "workspace_search"
    capability = "search"
    description = (
        "Search the workspace's text files for lines matching a Python regular expression (or "
        "plain text with literal=true), like grep. Returns one line per match as "
        "'path:line: text' (paths relative to the workspace root, long lines cut), then a count. "
        "Binary files, files over "
        f"{human_size(MAX_FILE_BYTES)} and the directories .git, node_modules, .venv, venv, "
        "__pycache__, .tox, .mypy_cache, dist and build are skipped (give a path inside one to "
        "search it). Narrow with path and glob, e.g. glob='*.py'."
    )
    Input = SearchInput

    def effects(self, args: SearchInput) -> ToolEffects:
        """Reads under ``path``."""
        return ToolEffects(reads=(args.path,))

    async def run(self, args: SearchInput, context: ToolContext) -> str:
        """Matching lines, found in a worker thread."""
        regex = _compile(args)
        base = context.resolve(args.path)
        if not base.exists():
            raise ToolError(f"{args.path!r}: no such file or directory in the workspace")
        limit = min(args.max_results, HARD_MAX_RESULTS)
        file_filter = _file_filter(args.glob)
        found = await asyncio.to_thread(
            _search, base, context.workspace, regex, file_filter, limit, context.visible
        )
        return _report(args, found, limit)


def _compile(args: SearchInput) -> re.Pattern[str]:
    if not args.pattern:
        raise ToolError("the pattern is empty; give text or a regular expression to look for")
    source = re.escape(args.pattern) if args.literal else args.pattern
    flags = re.MULTILINE | (0 if args.case_sensitive else re.IGNORECASE)
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise ToolError(
            f"invalid regular expression {args.pattern!r}: {exc}; escape special characters "
            "or set literal=true to search for plain text"
        ) from None


def _file_filter(glob: str | None):
    if not glob or not glob.strip():
        return None
    regex = compile_glob(glob.strip().removeprefix("./"))
    by_name = "/" not in glob

    def accept(rel: str) -> bool:
        return bool(regex.match(rel.rsplit("/", 1)[-1] if by_name else rel))

    return accept


def _search(
    base: Path, workspace: Path, regex: re.Pattern[str], accept, limit: int, visible: Callable[[str], bool]
) -> Findings:
    found = Findings()
    if base.is_file():
        _search_file(base, base.relative_to(workspace).as_posix(), regex, limit, found)
        return found
    prefix = "" if base == workspace else base.relative_to(workspace).as_posix() + "/"
    walk = Walk(
        base, enter=lambda entry: entry.path.name not in HEAVY_DIRS, workspace=workspace, visible=visible
    )
    for entry in walk:
        if entry.kind != "file" or (accept is not None and not accept(entry.rel)):
            continue
        if entry.size > MAX_FILE_BYTES:
            found.large += 1
            continue
        _search_file(entry.path, prefix + entry.rel, regex, limit, found)
        if found.full:
            break
    found.stopped = walk.stopped
    return found


def _search_file(path: Path, shown: str, regex: re.Pattern[str], limit: int, found: Findings) -> None:
    try:
        with open_regular(path, shown) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except ToolError:
        return
    if len(data) > MAX_FILE_BYTES:
        found.large += 1
        return
    if b"\x00" in data:
        found.binary += 1
        return
    found.searched += 1
    text = data.decode("utf-8", errors="replace")
    if regex.search(text) is None and "\\A" not in regex.pattern and "\\Z" not in regex.pattern:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        match = regex.search(line)
        if match is None:
            continue
        if len(found.lines) == limit:
            found.full = True
            return
        found.lines.append((shown, number, _excerpt(line, match.start())))
        found.files.add(shown)


def _excerpt(line: str, start: int) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    begin = max(0, min(start - 80, len(line) - MAX_LINE_CHARS))
    text = line[begin : begin + MAX_LINE_CHARS]
    return ("…" if begin else "") + text + ("…" if begin + MAX_LINE_CHARS < len(line) else "")


def _report(args: SearchInput, found: Findings, limit: int) -> str:
    notes = []
    if found.full:
        note = f"[stopped at {plural(limit, 'match', 'matches')}"
        if args.max_results > HARD_MAX_RESULTS:
            note += f" (max_results is capped at {HARD_MAX_RESULTS})"
        notes.append(note + "; narrow the pattern, path or glob to see the rest]")
    if found.stopped:
        notes.append(f"[the search was cut at {found.stopped}; narrow path or glob]")
    skipped = []
    if found.binary:
        skipped.append(plural(found.binary, "binary file"))
    if found.large:
        skipped.append(f"{plural(found.large, 'file')} over {human_size(MAX_FILE_BYTES)}")
    if skipped:
        notes.append(f"[skipped {' and '.join(skipped)}]")
    if not found.lines:
        head = f"No matches for {args.pattern!r} in {args.path!r} ({plural(found.searched, 'file')} searched)."
        return "\n".join([head, *notes])
    head = (
        f"{plural(len(found.lines), 'match', 'matches')} in {plural(len(found.files), 'file')} "
        f"({plural(found.searched, 'file')} searched):"
    )
    lines = [f"{path}:{number}: {text}" for path, number, text in sorted(found.lines)]
    return "\n".join([head, *lines, *notes])
