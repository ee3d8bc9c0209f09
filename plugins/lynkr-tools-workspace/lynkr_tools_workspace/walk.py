"""Walking a workspace directory: sorted, bounded, never through a symlink.

Symlinks are reported as such and never followed, so a link to a directory
outside the workspace is not entered. FIFOs, sockets and devices are
reported as ``other`` and never opened. The walk stops after
``max_entries`` entries or at ``deadline``, and says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Directories ``workspace_search`` and ``workspace_glob`` don't enter unless asked to.
HEAVY_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", "dist", "build"}
)


@dataclass(slots=True)
class Entry:
    """One directory entry met by a walk."""

    path: Path
    rel: str
    kind: str
    size: int
    depth: int


@dataclass(slots=True)
class Walk:
    """A bounded walk under ``base``; ``stopped`` says why it ended early, if it did.

    ``enter(entry)`` decides whether a directory is descended into (its
    entry is yielded either way); ``max_depth`` 1 lists ``base`` only.
    ``visible(path)`` gets each entry's path relative to ``workspace``: an
    entry it refuses (a policy hides it) is neither yielded nor entered.
    """

    base: Path
    max_depth: int | None = None
    enter: Callable[[Entry], bool] = lambda entry: True
    workspace: Path | None = None
    visible: Callable[[str], bool] = lambda path: True
    max_entries: int = 200_000
    seconds: float = 20.0
    visited: int = 0
    unreadable: int = 0
    hidden: int = 0
    stopped: str = ""

    def __iter__(self) -> Iterator[Entry]:
        """Entries in pre-order: at each level directories first, then the rest, by name."""
        deadline = time.monotonic() + self.seconds
        stack = [iter(self._scan(self.base, "", 1))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            if not self._visible(entry):
                self.hidden += 1
                continue
            self.visited += 1
            if self.visited > self.max_entries:
                self.stopped = f"the walk limit of {self.max_entries} entries"
                return
            if self.visited % 64 == 0 and time.monotonic() > deadline:
                self.stopped = f"the walk time limit of {self.seconds:g} s"
                return
            yield entry
            deeper = self.max_depth is None or entry.depth < self.max_depth
            if entry.kind == "dir" and deeper and self.enter(entry):
                stack.append(iter(self._scan(entry.path, entry.rel + "/", entry.depth + 1)))

    def _visible(self, entry: Entry) -> bool:
        if self.workspace is None:
            return True
        try:
            return self.visible(entry.path.relative_to(self.workspace).as_posix())
        except ValueError:
            return False

    def _scan(self, directory: Path, prefix: str, depth: int) -> list[Entry]:
        try:
            with os.scandir(directory) as iterator:
                raw = list(iterator)
        except OSError:
            self.unreadable += 1
            return []
        entries = [_entry(item, prefix, depth) for item in raw]
        entries.sort(key=lambda entry: (entry.kind != "dir", entry.rel))
        return entries


def _entry(item: os.DirEntry[str], prefix: str, depth: int) -> Entry:
    rel = prefix + item.name
    path = Path(item.path)
    try:
        if item.is_symlink():
            return Entry(path, rel, "symlink", 0, depth)
        if item.is_dir(follow_symlinks=False):
            return Entry(path, rel, "dir", 0, depth)
        if item.is_file(follow_symlinks=False):
            return Entry(path, rel, "file", item.stat(follow_symlinks=False).st_size, depth)
    except OSError:
        pass
    return Entry(path, rel, "other", 0, depth)
