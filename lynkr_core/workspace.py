"""Confinement of tool paths to ``WORKSPACE_ROOT``.

Every tool that touches a file resolves the model's path with ``confine``
first. Refused: empty paths and NUL bytes, absolute paths, any ``..``
component, a path whose real location (symlinks followed, for the part that
exists) is outside the root, device files, FIFOs and sockets, and, for
writing, anything inside ``.git`` (a written hook would run on the next git
operation).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath


class OutsideWorkspace(Exception):
    """A path was refused; the message says why, for the model to read."""


def confine(root: Path, path: str, *, writing: bool = False) -> Path:
    """The absolute, symlink-free location of ``path`` (relative to ``root``) or ``OutsideWorkspace``.

    ``root`` must already be resolved. The path need not exist: for a new
    file, its deepest existing ancestor is checked instead.
    """
    if not isinstance(path, str) or not path.strip():
        raise OutsideWorkspace("the path is empty; give a path relative to the workspace root")
    if "\x00" in path:
        raise OutsideWorkspace(f"{path!r}: a path may not contain NUL bytes")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("~"):
        raise OutsideWorkspace(f"{path!r}: absolute paths are refused; give a path relative to the workspace root")
    if ".." in pure.parts:
        raise OutsideWorkspace(f"{path!r}: '..' is refused; give a path inside the workspace")
    if writing and ".git" in pure.parts:
        raise OutsideWorkspace(f"{path!r}: writing inside .git is refused")
    candidate = root.joinpath(*pure.parts) if pure.parts != (".",) else root
    real = _real_location(candidate)
    if real != root and root not in real.parents:
        raise OutsideWorkspace(f"{path!r}: resolves outside the workspace (through a symlink)")
    if writing and ".git" in real.relative_to(root).parts:
        raise OutsideWorkspace(f"{path!r}: writing inside .git is refused")
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise OutsideWorkspace(f"{path!r}: cannot be inspected ({exc.strerror})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OutsideWorkspace(f"{path!r}: not a regular file or directory (device, FIFO or socket)")
    return real


def _real_location(candidate: Path) -> Path:
    """``candidate`` with symlinks resolved as far as it exists, the rest appended."""
    missing: list[str] = []
    current = candidate
    while True:
        if os.path.lexists(current):
            return Path(os.path.realpath(current)).joinpath(*reversed(missing))
        missing.append(current.name)
        if current.parent == current:
            return candidate
        current = current.parent
