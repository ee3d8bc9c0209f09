"""Atomic file replacement: a temporary file in the same directory, then ``os.replace``.

A reader never sees a half-written file, and a failed write leaves the old
content in place. An existing file keeps its permission bits; a new one gets
the process umask's default (``0o666 & ~umask``), like any created file.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from lynkr_core import ToolError

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_atomic(target: Path, data: bytes, shown: str) -> bool:
    """Write ``data`` to ``target`` atomically, creating parent directories; True if it was created."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ToolError(f"{shown!r}: a parent of this path is a file, not a directory") from None
    except OSError as exc:
        raise ToolError(f"{shown!r}: cannot create its directory ({exc.strerror})") from None
    try:
        before = os.stat(target, follow_symlinks=False)
    except FileNotFoundError:
        before = None
    if before is not None and not stat.S_ISREG(before.st_mode):
        kind = "a directory" if stat.S_ISDIR(before.st_mode) else "not a regular file"
        raise ToolError(f"{shown!r} is {kind}; only regular files can be written")
    temporary = target.parent / f".{target.name[:180]}.{secrets.token_hex(4)}.lynkr-tmp"
    try:
        fd = os.open(temporary, _FLAGS, 0o666)
    except OSError as exc:
        raise ToolError(f"{shown!r}: cannot write in its directory ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if before is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(before.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ToolError(f"{shown!r}: the write failed ({exc.strerror}); the file is unchanged") from None
        raise
    return before is None
