"""A fingerprint of the working tree, and the few recent ones whose tests passed.

The fingerprint hashes every entry's relative path, size and modification
time (nanoseconds), walking the workspace without following symlinks and
skipping ``.git`` (a commit changes only ``.git``, so a commit followed by
a push sees the same tree). Any edit, creation, deletion or rename of a
file changes it. The walk is blocking: run it in a thread.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path

#: Directory names never walked.
SKIPPED = frozenset({".git"})


def tree_fingerprint(root: Path) -> str:
    """A hex digest of the tree under ``root`` (paths, sizes, mtimes)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(os.fsencode(root) + b"\0")
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(root, relative)) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            digest.update(b"!" + os.fsencode(relative) + f"\0{exc.errno}\n".encode())
            continue
        for entry in entries:
            if entry.name in SKIPPED:
                continue
            path = f"{relative}/{entry.name}" if relative else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError:  # vanished while walking
                continue
            digest.update(os.fsencode(path) + f"\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class RecentTrees:
    """The last ``size`` fingerprints added, most recent last."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, fingerprint: str) -> None:
        """Remember ``fingerprint``, forgetting the oldest beyond ``size``."""
        self._items[fingerprint] = None
        self._items.move_to_end(fingerprint)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
